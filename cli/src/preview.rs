//! `patchbay preview`: a progress bar a list while fetching, then the counts and a sample.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use patchbay_core::preview::{ListResult, PreviewEvent};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Progress bars for the preview's events (plain lines when stderr is not a terminal).
pub struct Bars {
    bars: MultiProgress,
    style: ProgressStyle,
    open: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            bars: MultiProgress::new(),
            style: ProgressStyle::with_template("{prefix:<28} [{bar:30}] {pos:>7}/{len:<7} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            open: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn show(&self, e: PreviewEvent) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        match e {
            PreviewEvent::Started { list, label, total } => {
                let bar = self.bars.add(ProgressBar::new(total.unwrap_or(0)));
                bar.set_style(self.style.clone());
                bar.set_prefix(label.clone());
                if self.bars.is_hidden() {
                    eprintln!("{label}: fetching…");
                }
                open.insert(list, bar);
            }
            PreviewEvent::Progress {
                list,
                fetched,
                total,
                pages,
                eta_secs,
            } => {
                if let Some(bar) = open.get(&list) {
                    // Without a total (most vendors do not give one) the bar grows with the count.
                    bar.set_length(total.unwrap_or(fetched).max(fetched));
                    bar.set_position(fetched);
                    let eta = eta_secs
                        .map(|s| format!(", about {s} s left"))
                        .unwrap_or_default();
                    let plural = if pages == 1 { "" } else { "s" };
                    bar.set_message(format!("{pages} page{plural}{eta}"));
                }
            }
            PreviewEvent::Waiting { list, message, .. } => match open.get(&list) {
                Some(bar) if !self.bars.is_hidden() => bar.set_message(message),
                _ => eprintln!("{message}"),
            },
            PreviewEvent::Finished { list, count } => {
                if let Some(bar) = open.get(&list) {
                    bar.set_length(count);
                    bar.finish_with_message("done");
                }
            }
        }
    }
}

/// The counts, then each list's sample rows and where its CSV file is.
pub fn summary(results: &[ListResult]) -> String {
    let mut out = String::from("\n");
    for r in results {
        out.push_str(&format!("{}: {}\n", r.label, r.count));
    }
    for r in results.iter().filter(|r| !r.sample.is_empty()) {
        out.push_str(&format!(
            "\n{} (first {} of {})\n",
            r.label,
            r.sample.len(),
            r.count
        ));
        out.push_str(&crate::table::render(&r.columns, &r.sample, 32));
        if let Some(path) = &r.csv {
            out.push_str(&format!("saved: {}\n", path.display()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_first_then_each_sample() {
        let list = |id: &str, count, sample: Vec<Vec<String>>| ListResult {
            id: id.into(),
            label: id.to_uppercase(),
            count,
            columns: vec!["Id".into(), "Name".into()],
            sample,
            csv: None,
        };
        let text = summary(&[
            list("a", 2, vec![vec!["1".into(), "Ann".into()]]),
            list("b", 0, vec![]),
        ]);
        assert!(text.starts_with("\nA: 2\nB: 0\n"), "{text}");
        assert!(
            text.contains("A (first 1 of 2)\nId  Name\n1   Ann\n"),
            "{text}"
        );
        assert!(!text.contains("B (first"), "no sample, no table: {text}");
    }
}
