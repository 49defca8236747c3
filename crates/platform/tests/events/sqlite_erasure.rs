//! What an erasure leaves in the raw files of a SQLite database: with
//! `secure_delete` on every connection and a `TRUNCATE` checkpoint after the
//! erasure, a deleted value is in neither the main file nor the `-wal`; new
//! files are created `0600`.

use vigie_platform::db::Db;

/// Whether any of the database's raw files (main, `-wal`, `-shm`) holds `needle`.
fn raw_files_hold(path: &std::path::Path, needle: &str) -> bool {
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let file = format!("{}{suffix}", path.display());
        std::fs::read(&file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}

#[tokio::test]
async fn an_erased_value_leaves_the_raw_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("erasure.sqlite");
    let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
    let secret = "Bérénice Quintal-Secrète";
    for i in 0..200 {
        sqlx::query("INSERT INTO people (id, name) VALUES ($1, $2)")
            .bind(format!("p{i}"))
            .bind(if i == 7 {
                secret.to_owned()
            } else {
                format!("personne {i}")
            })
            .execute(db.pool())
            .await
            .unwrap();
    }
    db.checkpoint().await.unwrap();
    assert!(raw_files_hold(&path, secret), "the fixture is written");
    // A rewrite then a delete, as an erasure does.
    sqlx::query("UPDATE people SET name = 'x' WHERE id = 'p7'")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM people WHERE id = 'p7'")
        .execute(db.pool())
        .await
        .unwrap();
    assert!(
        raw_files_hold(&path, secret),
        "before the checkpoint, the WAL still holds the old page"
    );
    db.checkpoint().await.unwrap();
    assert!(!raw_files_hold(&path, secret), "erased value still in the raw files");
    let wal = std::fs::metadata(format!("{}-wal", path.display()))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0, "the WAL is truncated");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file}: {mode:o}");
        }
    }
    db.close().await;
}
