//! The two ways a scenario runs a service: embedded (SQLite, as `vigie
//! dev`) and distributed (PostgreSQL, as `vigie serve`).

use anyhow::Result;

use crate::args::Args;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Embedded,
    Distributed,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Embedded => "embedded (SQLite)",
            Mode::Distributed => "distributed (PostgreSQL)",
        }
    }

    /// `--mode embedded|distributed|both` (both when not given).
    pub fn parse(args: Args) -> Result<Vec<Mode>> {
        let modes = args.modes("both", ["embedded", "distributed"])?;
        Ok(modes
            .into_iter()
            .map(|mode| {
                if mode == "embedded" {
                    Mode::Embedded
                } else {
                    Mode::Distributed
                }
            })
            .collect())
    }
}
