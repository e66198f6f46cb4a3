#!/usr/bin/python3
"""pcap-count.py FILE... - what libpcap itself reads from each capture file.

An independent count for tests that replay hostile captures: the system's
libpcap (through ctypes, no build step) opens each file and reads records
with pcap_next_ex until the end or an error, as any libpcap program would.
Prints one line per file, tab-separated:

    FILE<TAB>read<TAB>PACKETS<TAB>LINKTYPE<TAB>end|cut   libpcap opened it
    FILE<TAB>refused<TAB>MESSAGE                         libpcap cannot open it

`cut` means reading stopped on an error (a record cut off or damaged) after
PACKETS packets.  Exits 2 when libpcap itself cannot be loaded.
"""
import ctypes
import ctypes.util
import sys

PCAP_ERRBUF_SIZE = 256


def load():
    for name in (ctypes.util.find_library("pcap"), "libpcap.so.1", "libpcap.so.0.8", "libpcap.so"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.pcap_open_offline.restype = ctypes.c_void_p
        lib.pcap_open_offline.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.pcap_next_ex.restype = ctypes.c_int
        lib.pcap_next_ex.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.POINTER(ctypes.c_void_p)]
        lib.pcap_datalink.restype = ctypes.c_int
        lib.pcap_datalink.argtypes = [ctypes.c_void_p]
        lib.pcap_close.restype = None
        lib.pcap_close.argtypes = [ctypes.c_void_p]
        return lib
    return None


def count(lib, path):
    err = ctypes.create_string_buffer(PCAP_ERRBUF_SIZE)
    p = lib.pcap_open_offline(path.encode(), err)
    if not p:
        msg = err.value.decode(errors="replace").replace("\t", " ").replace("\n", " ")
        return f"{path}\trefused\t{msg}"
    hdr, data = ctypes.c_void_p(), ctypes.c_void_p()
    n = 0
    while True:
        rc = lib.pcap_next_ex(p, ctypes.byref(hdr), ctypes.byref(data))
        if rc != 1:
            break
        n += 1
    link = lib.pcap_datalink(p)
    lib.pcap_close(p)
    return f"{path}\tread\t{n}\t{link}\t{'end' if rc == -2 else 'cut'}"


def main():
    lib = load()
    if lib is None:
        sys.stderr.write("pcap-count.py: cannot load libpcap\n")
        return 2
    for path in sys.argv[1:]:
        print(count(lib, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
