"""Writes a damaged copy of a Fathom artifact: flip-weight | truncate | version."""
import struct
import sys

mode, source, target = sys.argv[1:4]
data = bytearray(open(source, "rb").read())
if mode == "flip-weight":
    # The first section starts at the first 64-byte boundary after the 64-byte header.
    data[64 + 100] ^= 0x01
elif mode == "truncate":
    data = data[: len(data) // 2]
elif mode == "version":
    # Header: magic[8], then the format version as a little-endian uint32.
    struct.pack_into("<I", data, 8, 99)
else:
    sys.exit("unknown mode " + mode)
open(target, "wb").write(bytes(data))
