fn main() {
    std::process::exit(patchbay_cli::main());
}
