/* Wine 8 has no bcryptprimitives.dll, whose ProcessPrng the Rust standard library calls for
 * random bytes on Windows 10 and later (HashMap keys, uuid, OAuth state and PKCE). This stand-in
 * gives the same bytes through advapi32's RtlGenRandom (SystemFunction036), which Wine has.
 * Built by MinGW in scripts/windows.sh and copied into the test Wine prefix only: never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
