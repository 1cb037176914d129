//! The Windows capability report: process handles always exist here; the
//! pidfd features are Linux only. `PROCHANDLE_FORCE_PID` is ignored, since
//! Windows has no PID-only way to wait for or terminate a process.

use std::ffi::{c_char, CStr};

use windows_sys::Wdk::System::SystemServices::RtlGetVersion;
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::SystemInformation::OSVERSIONINFOW;

use crate::capabilities::{forced_pid, Availability, Capabilities, Feature};

pub(crate) fn probe() -> Capabilities {
    let entries = Feature::ALL
        .iter()
        .map(|&f| {
            let availability = if f == Feature::ProcessHandle {
                Availability::Available
            } else {
                Availability::unavailable(None, "Linux only")
            };
            (f, availability)
        })
        .collect();
    let mut platform = platform();
    if forced_pid().is_some() {
        platform.push_str(", PROCHANDLE_FORCE_PID ignored: Windows has no PID-only mode");
    }
    Capabilities::new(entries, platform, false)
}

/// `"Windows 10.0.19045"`, plus `" (Wine 8.0)"` when running under Wine.
fn platform() -> String {
    let mut info = OSVERSIONINFOW {
        dwOSVersionInfoSize: std::mem::size_of::<OSVERSIONINFOW>() as u32,
        ..Default::default()
    };
    // SAFETY: `info` is a valid OSVERSIONINFOW with its size filled in.
    // RtlGetVersion, unlike GetVersionEx, reports the real version
    // regardless of the executable's compatibility manifest.
    let status = unsafe { RtlGetVersion(&mut info) };
    let mut text = if status == 0 {
        format!(
            "Windows {}.{}.{}",
            info.dwMajorVersion, info.dwMinorVersion, info.dwBuildNumber
        )
    } else {
        "Windows".to_owned()
    };
    if let Some(wine) = wine_version() {
        text.push_str(&format!(" (Wine {wine})"));
    }
    text
}

/// Wine's ntdll exports `wine_get_version`; Windows' does not.
fn wine_version() -> Option<String> {
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: a NUL-terminated UTF-16 name; ntdll is loaded in every process
    // and never unloaded, so the module handle stays valid.
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return None;
    }
    // SAFETY: a valid module handle and a NUL-terminated ASCII name.
    let proc = unsafe { GetProcAddress(module, c"wine_get_version".as_ptr().cast()) }?;
    // SAFETY: Wine declares `const char *wine_get_version(void)`; on x86_64
    // the "system" and "C" ABIs are the same, and casting between function
    // pointer types of the same ABI is sound when the real signature matches.
    let get: unsafe extern "system" fn() -> *const c_char = unsafe { std::mem::transmute(proc) };
    // SAFETY: calling it as declared; it returns a static NUL-terminated
    // string (or null, checked).
    let ptr = unsafe { get() };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null, NUL-terminated, static.
    Some(
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned(),
    )
}
