//! Answers already built from a structure's copy in the answer cache
//! (`app/cache.rs`), so that `GetStructure` and `GetFragility` served from a
//! current copy do not assess it, write its explanation sentences and build
//! and encode a message again on every call: a profile of `GetFragility` at
//! 64 callers found a third of the server's time there (assessment 10 %,
//! explanations and the message 17 %), and once answers were kept as
//! messages, copying and encoding the kept one still cost a fifth. Answers
//! are therefore kept encoded ([`bytes::Bytes`], shared without a copy) and
//! sent as they are (`routed.rs`).
//!
//! An answer is kept with a [`Weak`] handle on the copy it was built from
//! and served only while the application hands out that same copy: a copy
//! replaced in the cache (a change, a stale check) is a new allocation, so
//! the answer is built again. A `Weak` keeps its allocation alive, so the
//! address cannot be reused by another copy while the answer is kept. An
//! answer is therefore exactly as current as the cache's copy, and is the
//! answer built from it (same bytes; tested warm and cold). Answers do not
//! depend on who asks: the caller is authorised on the structure before.
//! After an erasure the adapter forgets the structure's answers at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

// Answers kept at most, per kind: as many as the read cache holds copies.
use crate::app::cache::{insert_bounded, CAPACITY};
use crate::app::views::VersionedInventory;

/// One kind of answer, by structure id: `K` is what else it depends on (the
/// date and the language of an assessment; `()` for the structure itself).
pub(super) struct Answers<K, V> {
    kept: Mutex<HashMap<String, Kept<K, V>>>,
}

struct Kept<K, V> {
    /// The copy the answer was built from.
    source: Weak<VersionedInventory>,
    key: K,
    answer: Arc<V>,
}

impl<K, V> Default for Answers<K, V> {
    fn default() -> Self {
        Answers {
            kept: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: PartialEq, V: Clone> Answers<K, V> {
    /// The answer for `key` built from `stored`: the one kept if it was built
    /// from this very copy for this key, else `build()`'s, then kept.
    pub fn get_or_build(&self, stored: &Arc<VersionedInventory>, key: K, build: impl FnOnce() -> V) -> V {
        let id = &stored.inventory.structure.id;
        let source = Arc::downgrade(stored);
        let found = self
            .lock()
            .get(id)
            .filter(|kept| kept.key == key && Weak::ptr_eq(&kept.source, &source))
            .map(|kept| Arc::clone(&kept.answer));
        if let Some(answer) = found {
            return V::clone(&answer);
        }
        let answer = build();
        let kept = Kept {
            source,
            key,
            answer: Arc::new(answer.clone()),
        };
        insert_bounded(&mut self.lock(), id.clone(), kept, CAPACITY);
        answer
    }

    /// Drops the answer kept for structure `id`, if any (after an erasure:
    /// an answer naming the person is otherwise kept until the structure is
    /// read again).
    pub fn forget(&self, id: &str) {
        let forgotten = self.lock().remove(id);
        drop(forgotten);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept<K, V>>> {
        // Insert and remove are whole: a panic elsewhere while holding the
        // lock leaves the map usable.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_fragility_model::fragility::fixtures::Builder;

    fn copy(id: &str, name: &str) -> Arc<VersionedInventory> {
        let mut inventory = Builder::new(id).build();
        inventory.structure.name = name.to_owned();
        Arc::new(VersionedInventory { inventory, version: 1 })
    }

    #[test]
    fn an_answer_is_built_once_per_copy_and_key() {
        let answers: Answers<u8, String> = Answers::default();
        let a = copy("S1", "Alpha");
        let builds = std::cell::Cell::new(0);
        let get = |stored: &Arc<VersionedInventory>, key: u8| {
            answers.get_or_build(stored, key, || {
                builds.set(builds.get() + 1);
                format!("{} {key}", stored.inventory.structure.name)
            })
        };
        assert_eq!(get(&a, 1), "Alpha 1");
        assert_eq!(get(&a, 1), "Alpha 1");
        assert_eq!(builds.get(), 1, "the same copy and key: kept");
        assert_eq!(get(&a, 2), "Alpha 2", "another key: built again");
        // A copy read again (a change, a stale check) is another allocation,
        // even with the same content.
        let replaced = copy("S1", "Alpha renamed");
        assert_eq!(get(&replaced, 2), "Alpha renamed 2");
        assert_eq!(builds.get(), 3);
    }

    #[test]
    fn an_answer_never_outlives_its_copy_by_address() {
        let answers: Answers<(), String> = Answers::default();
        let first = copy("S1", "Alpha");
        answers.get_or_build(&first, (), || "Alpha".to_owned());
        drop(first);
        // The kept Weak holds the old allocation: a new copy cannot take its
        // address and be mistaken for it.
        let second = copy("S1", "Beta");
        assert_eq!(answers.get_or_build(&second, (), || "Beta".to_owned()), "Beta");
    }

    #[test]
    fn a_forgotten_answer_is_built_again() {
        let answers: Answers<(), String> = Answers::default();
        let a = copy("S1", "Alpha");
        answers.get_or_build(&a, (), || "Alpha".to_owned());
        answers.forget("S1");
        assert!(answers.lock().is_empty(), "nothing kept for S1");
        assert_eq!(answers.get_or_build(&a, (), || "built again".to_owned()), "built again");
    }

    #[test]
    fn capacity_is_bounded() {
        let answers: Answers<(), String> = Answers::default();
        let copies: Vec<_> = (0..CAPACITY + 10).map(|i| copy(&format!("S{i}"), "x")).collect();
        for c in &copies {
            answers.get_or_build(c, (), || "x".to_owned());
        }
        assert_eq!(answers.lock().len(), CAPACITY);
    }
}
