#!/usr/bin/env bash
# Checks a built wheel: under 40 MB, and its extension carries no debug info (the release profile
# strips it; with debug info the wheel was 277 MB). Usage: check-wheel.sh WHEEL
set -euo pipefail
wheel=$1
limit=$((40 * 1000 * 1000))
size=$(stat -c %s "$wheel")
python3 - "$wheel" <<'PY'
import struct, sys, zipfile

def section_names(elf):
    """The section names of a 64-bit little-endian ELF file."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    def header(i):
        name, = struct.unpack_from("<I", elf, shoff + i * shentsize)
        offset, size = struct.unpack_from("<QQ", elf, shoff + i * shentsize + 0x18)
        return name, offset, size
    _, stroff, _ = header(shstrndx)
    names = []
    for i in range(shnum):
        name, _, _ = header(i)
        names.append(elf[stroff + name:elf.index(b"\0", stroff + name)].decode())
    return names

w = zipfile.ZipFile(sys.argv[1])
for i in w.infolist():
    if i.filename.endswith((".so", ".pyd", ".dylib")):
        print(f"{i.filename}: {i.file_size / 1e6:.1f} MB ({i.compress_size / 1e6:.1f} MB compressed)")
        data = w.read(i)
        if data[:5] == b"\x7fELF\x02":
            extra = [n for n in section_names(data) if n.startswith(".debug") or n == ".symtab"]
            if extra:
                sys.exit(f"{i.filename} is not stripped: it has {extra}")
PY
echo "$(basename "$wheel"): $((size / 1000)) kB (limit $((limit / 1000)) kB)"
if [ "$size" -gt "$limit" ]; then
    echo "the wheel is over 40 MB: is the release profile still stripped (Cargo.toml)?" >&2
    exit 1
fi
