//! Keeps glibc's allocator from handing memory back to the kernel between minibatches.
//!
//! Training allocates and frees the same few megabytes of arrays every minibatch (a tape's
//! values and gradients, dropped with the tape). With glibc's defaults, freeing them shrinks
//! the heap (`trim_threshold`, 128 KiB) and arrays above `mmap_threshold` get their own
//! mappings, so the next minibatch faults every page in again: 15–25 % of a PPO CartPole run
//! was page faults (`perf`; the same run with `GLIBC_TUNABLES` set like this spends 0.03 s in
//! the kernel instead of 1.3–1.9 s). The memory kept is the peak a run already needed.
//!
//! The criterion benches of the engine call [`keep_freed_memory`] first thing, so that they time
//! the engine rather than the kernel zeroing pages. A program of your own can call it, or set
//! `GLIBC_TUNABLES=glibc.malloc.trim_threshold=…`. The `wengert` command does not need it: it
//! replaces glibc's allocator with mimalloc (`src/main.rs`), which is faster still for this
//! pattern.

/// Heap memory is returned to the kernel only above this much free space at the top.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 30;

/// Allocations up to this size come from the heap rather than their own mapping.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 64 << 20;

/// Applies the settings above (glibc only; elsewhere the platform's allocator is left alone).
/// An explicit `GLIBC_TUNABLES` from the user wins.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        // SAFETY: `mallopt` only changes allocator parameters; called once, before threads start.
        unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}
