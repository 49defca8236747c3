//! Resident memory of a process, read from Linux's `/proc/PID/status`: the
//! figures the benchmarks report (docs/benchmarks.md). Elsewhere than
//! Linux the readings are `None`.

/// Whose memory.
#[derive(Debug, Clone, Copy)]
pub enum Process {
    /// The calling process.
    This,
    /// Another process (a server the benchmark started).
    Pid(u32),
}

/// A memory line of the process's status (`VmHWM:` the peak, `VmRSS:` now),
/// in MiB; `None` when the process is gone or the line absent.
pub fn status_mib(process: Process, field: &str) -> Option<f64> {
    let path = match process {
        Process::This => "/proc/self/status".to_owned(),
        Process::Pid(pid) => format!("/proc/{pid}/status"),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Peak resident memory (`VmHWM`) in MiB.
pub fn peak_mib(process: Process) -> Option<f64> {
    status_mib(process, "VmHWM:")
}

/// Resident memory now (`VmRSS`) in MiB.
pub fn rss_mib(process: Process) -> Option<f64> {
    status_mib(process, "VmRSS:")
}

/// Resets this process's peak to its current resident memory (Linux ≥ 4.0,
/// `clear_refs`), so that the next peak read is that of what follows.
///
/// # Errors
/// When `/proc/self/clear_refs` cannot be written.
pub fn reset_peak() -> std::io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_size_below_its_peak() {
        let rss = rss_mib(Process::This).expect("VmRSS on Linux");
        let peak = peak_mib(Process::This).expect("VmHWM on Linux");
        assert!(rss > 0.0 && peak >= rss, "rss {rss}, peak {peak}");
    }

    #[test]
    fn a_missing_process_or_line_reads_none() {
        assert_eq!(status_mib(Process::Pid(u32::MAX), "VmHWM:"), None);
        assert_eq!(status_mib(Process::This, "NoSuchLine:"), None);
    }
}
