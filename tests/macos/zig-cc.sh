#!/bin/sh
# A C compiler for an Apple target, for cargo check (scripts/macos.sh): Zig's, which carries
# macOS's C headers.   zig-cc.sh ZIG ZIG-TARGET <cc arguments>
# cc-rs names the target in clang's words (--target=arm64-apple-macosx, -arch arm64); Zig is
# told it in its own instead. Objective-C (*.m) includes Cocoa, which only Apple's SDK has: such
# a file is compiled as an empty object (a check links nothing).
zig="$1" target="$2"
shift 2
out="" objc="" prev="" skip=""
for a in "$@"; do
  shift
  [ "$prev" = "-o" ] && out="$a"
  prev="$a"
  if [ -n "$skip" ]; then skip=""; continue; fi
  case "$a" in
    *.m) objc=1 ;;
    -o?*) out="${a#-o}" ;;
    --target=*) continue ;;
    -arch) skip=1; continue ;;
  esac
  set -- "$@" "$a"
done
if [ -n "$objc" ] && [ -n "$out" ]; then
  exec "$zig" cc -target "$target" -x c -c /dev/null -o "$out"
fi
exec "$zig" cc -target "$target" "$@"
