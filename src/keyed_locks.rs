//! One async lock per key, made on first use and forgotten once nobody holds it: one refresh per token
//! owner, one save per call list, within a process. Across instances the store coordinates the same work.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

/// Locks by key. The map is pruned of unheld locks when it grows, so it stays bounded by what is in use.
pub struct KeyedLocks<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        KeyedLocks { locks: Mutex::new(HashMap::new()) }
    }
}

/// Above this many keys, unheld locks are dropped before a new one is made.
const PRUNE_ABOVE: usize = 10_000;

impl<K: Hash + Eq + Clone> KeyedLocks<K> {
    /// Waits for the lock of `key`; it is released when the guard is dropped.
    pub async fn lock(&self, key: &K) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if locks.len() > PRUNE_ABOVE {
                locks.retain(|_, l| Arc::strong_count(l) > 1);
            }
            locks.entry(key.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// How many keys are remembered (held or not yet pruned).
    pub fn len(&self) -> usize {
        self.locks.lock().map(|l| l.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_holder_per_key_and_other_keys_are_free() {
        let locks: Arc<KeyedLocks<u32>> = Arc::default();
        let held = locks.lock(&1).await;
        assert!(tokio::time::timeout(Duration::from_millis(50), locks.lock(&2)).await.is_ok());
        assert!(tokio::time::timeout(Duration::from_millis(50), locks.lock(&1)).await.is_err());
        drop(held);
        assert!(tokio::time::timeout(Duration::from_millis(50), locks.lock(&1)).await.is_ok());
    }

    #[tokio::test]
    async fn unheld_locks_are_pruned_when_the_map_grows() {
        let locks: KeyedLocks<usize> = KeyedLocks::default();
        for k in 0..=PRUNE_ABOVE + 1 {
            drop(locks.lock(&k).await);
        }
        assert!(locks.len() < 10, "{} locks kept", locks.len());
    }
}
