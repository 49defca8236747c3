//! `vigie inventory generate`: a realistic synthetic inventory, written as a
//! CSV set, for demos and benchmarks. Offline: no server needed.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use vigie_inventory_set::generate::{generate, GenerateParams};

use crate::client::inventory::SET_FILES;
use crate::i18n::Lang;

/// Writes the four files of a generated set into `dir` (created if needed).
///
/// # Errors
/// I/O errors on `dir`.
pub fn run(structures: usize, seed: u64, today: Option<NaiveDate>, dir: &Path, lang: Lang) -> anyhow::Result<()> {
    let today = today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let set = generate(GenerateParams {
        structures,
        seed,
        today,
    });
    let files = set.to_files()?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{} {}", lang.pick("création de", "creating"), dir.display()))?;
    for (name, bytes) in SET_FILES
        .iter()
        .zip([&files.structures, &files.people, &files.functions, &files.holdings])
    {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .with_context(|| format!("{} {}", lang.pick("écriture de", "writing"), path.display()))?;
    }
    match lang {
        Lang::Fr => eprintln!(
            "Jeu généré dans {} : {structures} structures (graine {seed}). Importez-le avec : vigie inventory import {}",
            dir.display(), dir.display()
        ),
        Lang::En => eprintln!(
            "Set generated in {}: {structures} structures (seed {seed}). Import it with: vigie inventory import {}",
            dir.display(), dir.display()
        ),
    }
    Ok(())
}
