//! The rule that sends cross-service scenarios here: a service crate
//! (`services/<name>/…`, its domain included) depends on kernel crates and
//! on its own crates only — in every dependency table, dev-dependencies
//! too. `services/vigie` (the composition binary) and `tests/` alone depend
//! on services (docs/architecture.md, ADR 0004).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use serde_json::Value;

/// The service a manifest or a path dependency belongs to: the directory
/// under `services/` (`None` outside it).
fn service_of(workspace: &Path, path: &Path) -> Option<String> {
    let mut parts = path.strip_prefix(workspace).ok()?.components();
    if parts.next()?.as_os_str() != "services" {
        return None;
    }
    Some(parts.next()?.as_os_str().to_str()?.to_owned())
}

#[test]
fn no_service_crate_depends_on_another_service() -> Result<()> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .context("cargo metadata")?;
    ensure!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout)?;
    let workspace = PathBuf::from(metadata["workspace_root"].as_str().context("workspace_root")?);
    let mut services = 0;
    let mut crossings = Vec::new();
    for package in metadata["packages"].as_array().context("packages")? {
        let manifest = Path::new(package["manifest_path"].as_str().context("manifest_path")?);
        let Some(own) = service_of(&workspace, manifest).filter(|s| s != "vigie") else {
            continue;
        };
        services += 1;
        for dependency in package["dependencies"].as_array().context("dependencies")? {
            let Some(path) = dependency["path"].as_str() else {
                continue;
            };
            if let Some(other) = service_of(&workspace, Path::new(path)).filter(|other| *other != own) {
                crossings.push(format!(
                    "{} → {} (services/{other}, {})",
                    package["name"],
                    dependency["name"],
                    dependency["kind"].as_str().unwrap_or("normal")
                ));
            }
        }
    }
    ensure!(
        services >= 10,
        "only {services} service crates found: is the layout still services/<name>/?"
    );
    ensure!(
        crossings.is_empty(),
        "service crates depending on another service:\n{}",
        crossings.join("\n")
    );
    Ok(())
}
