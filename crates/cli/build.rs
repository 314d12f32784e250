//! Links the `gatehouse` executable at a fixed address (non-PIE) on Linux.
//!
//! Why: every hook is a fresh process, and on these VMs a page fault is the
//! dearest thing a short process does (1–5 µs each). A position-independent
//! executable of this size rewrites ~470 KiB of relocated data (vtables,
//! panic locations, string tables) at every start: ~130 of a hook's ~410
//! page faults, 0.2–0.6 ms of its run time (BENCHMARKS.md). A fixed-address
//! executable has nothing to relocate.
//!
//! What this gives up is the randomisation of the executable's own
//! addresses (as Go binaries do by default); shared libraries, heap, stack
//! and mappings stay randomised, and every crate of ours denies `unsafe`.
//! Delete this file to build a PIE again.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
