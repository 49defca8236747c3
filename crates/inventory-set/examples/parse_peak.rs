//! Peak memory of parsing one inventory CSV set, the server's validation
//! step alone (docs/benchmarks.md, « Import of 100,000 structures »):
//!
//! ```sh
//! vigie inventory generate --structures 100000 --seed 1 /tmp/set
//! cargo run --release -p vigie-inventory-set --example parse_peak -- /tmp/set
//! ```
//!
//! Prints the resident set before reading the files, once they are read,
//! and the peak (`VmHWM`, Linux) after parsing, with the parse time.

use std::path::Path;
use std::time::Instant;

use vigie_inventory_set::{parse_set_owned, CsvSetFiles, FUNCTIONS_FILE, HOLDINGS_FILE, PEOPLE_FILE, STRUCTURES_FILE};
use vigie_testkit::memory::{self, Process};

fn mib(reading: Option<f64>) -> String {
    reading.map_or_else(|| "? MiB".to_owned(), |mib| format!("{mib:.0} MiB"))
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: parse_peak DIR (a CSV set, as written by `vigie inventory generate`)");
        std::process::exit(2);
    });
    let read = |name: &str| std::fs::read(Path::new(&dir).join(name)).unwrap_or_default();
    println!("before reading: {}", mib(memory::rss_mib(Process::This)));
    let files = CsvSetFiles {
        structures: read(STRUCTURES_FILE),
        people: read(PEOPLE_FILE),
        functions: read(FUNCTIONS_FILE),
        holdings: read(HOLDINGS_FILE),
    };
    println!("files read: {}", mib(memory::rss_mib(Process::This)));
    let started = Instant::now();
    let parsed = parse_set_owned(files);
    let elapsed = started.elapsed();
    match &parsed {
        Ok(set) => println!("{} structures parsed in {:.2} s", set.len(), elapsed.as_secs_f64()),
        Err(errors) => println!("{} errors in {:.2} s", errors.len(), elapsed.as_secs_f64()),
    }
    println!("held after parsing: {}", mib(memory::rss_mib(Process::This)));
    println!("peak: {}", mib(memory::peak_mib(Process::This)));
}
