/*
 * Stand-in for Windows' bcryptprimitives.dll, used only to run Rust test
 * binaries for x86_64-pc-windows-gnu under Wine.
 *
 * Rust's std (1.78+) gets its random bytes (e.g. HashMap seeds) from
 * ProcessPrng() in bcryptprimitives.dll. Wine 8 (Debian 12) does not export
 * that function, so every Rust program fails to start or panics. This DLL
 * provides ProcessPrng and forwards to advapi32's SystemFunction036
 * (RtlGenRandom), which Wine does implement.
 *
 * Build (setup.sh does this): x86_64-w64-mingw32-gcc -shared -O2 -s \
 *        -o bcryptprimitives.dll processprng.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom; exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    /* SystemFunction036 takes a ULONG length; feed large requests in chunks. */
    while (cbData > 0) {
        ULONG chunk = cbData > 0x40000000u ? 0x40000000u : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk))
            return FALSE;
        pbData += chunk;
        cbData -= chunk;
    }
    /* The real ProcessPrng is documented to always return TRUE. */
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
