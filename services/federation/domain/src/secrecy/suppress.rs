//! The suppression rules 1–4 of the module documentation, on the grid.
//!
//! Termination of the fixpoint: a pass of rules 3–4 either turns at least one
//! cell from published to suppressed or changes nothing and stops; no rule
//! ever publishes a suppressed cell again, and the grid has a finite number of
//! cells (groups × measures), so there are at most that many passes plus one.
//! The result is deterministic: candidates are taken smallest value first,
//! ties broken by group order (keys are sorted), measures in a fixed order.

use super::audit::{self, At};
use super::dominated;
use super::grid::{Grid, Work, BANDS, STRUCTURES};

pub(crate) fn suppress(grid: &mut Grid, k: u64) {
    primary(grid, k);
    // The audit finds what the one-equation rules miss; each repair hides one
    // more cell, so this loop ends for the same reason as `secondary`.
    loop {
        secondary(grid, k);
        let found = audit::recomputable(grid);
        if !found.iter().any(|at| repair(grid, *at)) {
            return;
        }
    }
}

/// Rules 3 and 4 until nothing changes.
fn secondary(grid: &mut Grid, k: u64) {
    loop {
        let mut changed = false;
        for part in &mut grid.parts {
            for cells in part.iter_mut() {
                changed |= inside_group(cells, k);
            }
        }
        for m in 0..grid.measures() {
            for p in 0..2 {
                changed |= across_partition(grid, m, p, k);
            }
        }
        if !changed {
            return;
        }
    }
}

/// Rules 1 and 2.
fn primary(grid: &mut Grid, k: u64) {
    for cells in grid.parts.iter_mut().flatten() {
        let small_group = cells[STRUCTURES].value < k;
        for c in cells.iter_mut() {
            if small_group || is_small(c.contributors, k) || dominated(c.value, c.largest) {
                c.suppressed = true;
            }
        }
    }
}

fn is_small(n: u64, k: u64) -> bool {
    (1..k).contains(&n)
}

/// Index of the smallest non-zero published cell among `candidates`.
fn smallest<'a>(candidates: impl Iterator<Item = (usize, &'a Work)>) -> Option<usize> {
    candidates
        .filter(|(_, c)| !c.suppressed && c.value > 0)
        .min_by_key(|(i, c)| (c.value, *i))
        .map(|(i, _)| i)
}

/// Rule 3: `structures = Σ bands` inside one group.
fn inside_group(cells: &mut [Work], k: u64) -> bool {
    let hidden_bands: Vec<&Work> = cells[BANDS].iter().filter(|c| c.suppressed).collect();
    let needs = if cells[STRUCTURES].suppressed {
        // The five bands would give the count back.
        hidden_bands.is_empty()
    } else {
        // The count is published: one hidden band is its difference, and
        // several hidden bands have a known sum, which must not be small.
        hidden_bands.len() == 1 || is_small(hidden_bands.iter().map(|c| c.contributors).sum(), k)
    };
    if !needs {
        return false;
    }
    let bands = cells.iter().enumerate().filter(|(i, _)| BANDS.contains(i));
    if let Some(i) = smallest(bands) {
        cells[i].suppressed = true;
        return true;
    }
    // Every non-zero band is hidden already: hide the count that reveals them.
    if !cells[STRUCTURES].suppressed {
        cells[STRUCTURES].suppressed = true;
        return true;
    }
    false
}

/// Rule 4 for measure `m` in partition `p`.
fn across_partition(grid: &mut Grid, m: usize, p: usize, k: u64) -> bool {
    let hidden: Vec<&Work> = grid.parts[p]
        .iter()
        .map(|cells| &cells[m])
        .filter(|c| c.suppressed)
        .collect();
    // The hidden cells' sum is known when the other partition publishes all
    // of its cells: it must be no easier to read than one cell (enough
    // contributors; for a magnitude, no structure holding most of it).
    let needs = hidden.len() == 1
        || is_small(hidden.iter().map(|c| c.contributors).sum(), k)
        || dominated(
            hidden.iter().map(|c| c.value).sum(),
            hidden.iter().map(|c| c.largest).max().unwrap_or(0),
        );
    if !needs {
        return false;
    }
    if let Some(g) = smallest(grid.parts[p].iter().map(|cells| &cells[m]).enumerate()) {
        grid.parts[p][g][m].suppressed = true;
        return true;
    }
    // No complement here: the region total equals what is hidden, so the
    // other partition must not publish every cell of the measure.
    let q = 1 - p;
    if grid.parts[q].iter().any(|cells| cells[m].suppressed) {
        return false;
    }
    if let Some(g) = smallest(grid.parts[q].iter().map(|cells| &cells[m]).enumerate()) {
        grid.parts[q][g][m].suppressed = true;
        return true;
    }
    false
}

/// Hides one more cell next to a recomputable one: a published band of its
/// group (or the group's count) for the coupled measures, else a cell of the
/// same measure in its partition, else in the other partition. Returns false
/// when nothing is left to hide.
fn repair(grid: &mut Grid, (p, g, m): At) -> bool {
    if m == STRUCTURES || BANDS.contains(&m) {
        let cells = &mut grid.parts[p][g];
        let bands = cells.iter().enumerate().filter(|(i, _)| BANDS.contains(i));
        if let Some(i) = smallest(bands) {
            cells[i].suppressed = true;
            return true;
        }
        if !cells[STRUCTURES].suppressed && cells[STRUCTURES].value > 0 {
            cells[STRUCTURES].suppressed = true;
            return true;
        }
    }
    for part in [p, 1 - p] {
        if let Some(other) = smallest(grid.parts[part].iter().map(|cells| &cells[m]).enumerate()) {
            grid.parts[part][other][m].suppressed = true;
            return true;
        }
    }
    if m == STRUCTURES || BANDS.contains(&m) {
        // The chain runs through other groups (a cycle of band and count
        // equations): an unknown anywhere on it breaks it, so hide the
        // smallest published count or band cell, this partition first. The
        // audit runs again and says whether that was enough.
        for part in [p, 1 - p] {
            let coupled = grid.parts[part]
                .iter()
                .enumerate()
                .flat_map(|(g, cells)| (STRUCTURES..=*BANDS.end()).map(move |m| (g, m, &cells[m])))
                .filter(|(_, _, c)| !c.suppressed && c.value > 0)
                .min_by_key(|(g, m, c)| (c.value, *g, *m))
                .map(|(g, m, _)| (g, m));
            if let Some((g, m)) = coupled {
                grid.parts[part][g][m].suppressed = true;
                return true;
            }
        }
    }
    false
}
