//! Link options for the `prochandle` binary on Linux: what every run pays
//! before it does anything is the pages of the binary it touches and the
//! work of the dynamic loader, and `run` runs in loops (docs/cli.md,
//! "Fixed costs"). Layout and linking only: the program is the same.
//!
//! - `link/hot-text.ld` puts the functions a run executes together (see
//!   there): about 1 MB less resident memory per run. Left out when the
//!   configuration chooses the linker (mold, for one, takes no such
//!   script).
//! - With glibc 2.36 or later on the machine that builds and runs it,
//!   relative relocations are packed (`DT_RELR`): the loader reads 3 KB
//!   instead of 190 KB of them. The linker makes the binary require
//!   glibc's `GLIBC_ABI_DT_RELR`, so it is asked for only when building
//!   for this machine's own glibc, and one that is new enough.
//! - libgcc's unwinder (std's backtraces need it; nothing unwinds with
//!   `panic = "abort"`) is linked in from `libgcc_eh.a` when the C
//!   compiler has one, instead of loading `libgcc_s.so.1` at every start
//!   (the library, its relocations and its constructor, which asks the
//!   CPU for its features).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link/hot-text.ld");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    if default_linker() {
        let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let script = Path::new(&manifest).join("link").join("hot-text.ld");
        println!(
            "cargo:rustc-link-arg-bin=prochandle=-Wl,-T,{}",
            script.display()
        );
    }
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("gnu") {
        return;
    }
    // What is asked of the machine (its glibc, its C compiler's libgcc)
    // describes the target only when building for the machine itself.
    if env::var("HOST").ok() != env::var("TARGET").ok() {
        return;
    }
    if glibc_version().is_some_and(|version| version >= (2, 36)) {
        println!("cargo:rustc-link-arg-bin=prochandle=-Wl,-z,pack-relative-relocs");
    }
    if static_unwinder().is_some() {
        // Before std's `-lgcc_s` on the link line, so that it resolves
        // the unwinder's symbols and `--as-needed` drops the library.
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
}

/// Whether the binary is linked by the toolchain's own choice of linker
/// (lld, or the C compiler's GNU ld), which take the layout script's
/// `INSERT`; a linker chosen in the configuration (`-fuse-ld=mold`, a
/// `linker` setting) may not, and then links without it.
fn default_linker() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    env::var_os("RUSTC_LINKER").is_none() && !flags.contains("fuse-ld") && !flags.contains("linker")
}

/// This machine's glibc, from the first line of `ldd --version` ("ldd
/// (GNU libc) 2.39"), or `None` if it cannot be told.
fn glibc_version() -> Option<(u32, u32)> {
    let output = Command::new("ldd").arg("--version").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let first = text.lines().next()?;
    if !first.contains("GLIBC") && !first.contains("GNU libc") {
        return None;
    }
    let (major, minor) = first.rsplit(' ').next()?.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Where the C compiler that links the binary has `libgcc_eh.a`, if it
/// has one (it answers with the bare name when it has not).
fn static_unwinder() -> Option<PathBuf> {
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let output = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    (path.is_absolute() && path.is_file()).then_some(path)
}
