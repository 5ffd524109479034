//! One database read shared by the requests that were waiting when it started.
//!
//! The admission webhook and the signing API read `signature_state.version` on every request, so
//! that a change made through another replica applies to the next request here. On PostgreSQL
//! that read is a round trip whose cost to the console (the socket's system calls and the task
//! wake-ups) is most of a cached review. Requests that arrive together need not each make it:
//! a read that *starts after* a request arrived sees everything committed before the request,
//! which is all "the next request" promises. So one request reads at a time; those that arrive
//! meanwhile wait for the read after it, which starts as soon as it ends and answers them all.
//! A request never takes the answer of a read that began before it arrived.
//!
//! Hand-written because the single-flight crates join a call already in flight, which is exactly
//! the answer that may be stale here.

use std::future::Future;
use std::sync::Mutex;

use tokio::sync::oneshot;

/// What a waiting request is told.
enum Turn<T> {
    /// The value of a read that started after it arrived.
    Value(T),
    /// The read failed: read again on its own, so its error is its own.
    Failed,
    /// It reads next, for itself and whoever waits then.
    Lead,
}

#[derive(Default)]
struct Gate<T> {
    /// A read is running (or a request has been told to lead the next one).
    reading: bool,
    /// Requests waiting for the next read.
    waiting: Vec<oneshot::Sender<Turn<T>>>,
}

/// Shares reads of one value between the requests that wait for it together.
pub struct NextRead<T> {
    gate: Mutex<Gate<T>>,
}

impl<T> Default for NextRead<T> {
    fn default() -> Self {
        NextRead { gate: Mutex::new(Gate { reading: false, waiting: Vec::new() }) }
    }
}

impl<T: Clone + Send> NextRead<T> {
    fn gate(&self) -> std::sync::MutexGuard<'_, Gate<T>> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value as read by a `read` that started after this call: this call's own, or one made
    /// for several waiting calls at once.
    pub async fn get<E, F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        loop {
            let waiting = {
                let mut gate = self.gate();
                if gate.reading {
                    let (tell, told) = oneshot::channel();
                    gate.waiting.push(tell);
                    Some(told)
                } else {
                    gate.reading = true;
                    None
                }
            };
            if let Some(told) = waiting {
                match told.await {
                    Ok(Turn::Value(value)) => return Ok(value),
                    Ok(Turn::Failed) => return read().await,
                    Ok(Turn::Lead) => {}
                    // The read meant for it was abandoned (its request went away): start over.
                    Err(_) => continue,
                }
            }
            return self.lead(read).await;
        }
    }

    /// Reads for this call and for every call waiting when the read starts, then hands the next
    /// read to a call that came meanwhile (or closes the gate).
    async fn lead<E, F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // Those waiting now arrived before the read starts: its answer is theirs too. Should this
        // call be dropped while reading, the guard still hands the gate on, and they start over.
        let batch = std::mem::take(&mut self.gate().waiting);
        let handover = HandOver(self);
        let result = read().await;
        for tell in batch {
            let _ = tell.send(match &result {
                Ok(value) => Turn::Value(value.clone()),
                Err(_) => Turn::Failed,
            });
        }
        drop(handover);
        result
    }
}

/// Passes the gate to the next waiting call when a read ends, however it ends.
struct HandOver<'a, T>(&'a NextRead<T>);

impl<T> Drop for HandOver<'_, T> {
    fn drop(&mut self) {
        let mut gate = self.0.gate.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(next) = gate.waiting.pop() {
            // A call that went away cannot lead; try the one before it.
            if next.send(Turn::Lead).is_ok() {
                return;
            }
        }
        gate.reading = false;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// A value that a test moves, read with a pause so that calls pile up behind a read.
    struct Source {
        value: AtomicI64,
        reads: AtomicUsize,
    }

    impl Source {
        async fn read(&self) -> Result<i64, String> {
            let value = self.value.load(Ordering::SeqCst);
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(value)
        }
    }

    /// A call of `next.get` reading `source`, on a task of its own.
    fn call(source: &Arc<Source>, next: &Arc<NextRead<i64>>) -> tokio::task::JoinHandle<Result<i64, String>> {
        let (source, next) = (source.clone(), next.clone());
        tokio::spawn(async move { next.get(|| source.read()).await })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_that_wait_together_share_one_later_read() {
        let source = Arc::new(Source { value: AtomicI64::new(1), reads: AtomicUsize::new(0) });
        let next = Arc::new(NextRead::<i64>::default());
        // The first call reads 1 and holds the gate for 20 ms.
        let first = call(&source, &next);
        tokio::time::sleep(Duration::from_millis(5)).await;
        // The value moves after that read began; every call from now on must see the new one.
        source.value.store(2, Ordering::SeqCst);
        let later: Vec<_> = (0..8).map(|_| call(&source, &next)).collect();
        assert_eq!(first.await.unwrap(), Ok(1));
        for call in later {
            assert_eq!(call.await.unwrap(), Ok(2), "a call got a read that began before it arrived");
        }
        // One read for the first call, one shared by the eight (or at most a few more).
        let reads = source.reads.load(Ordering::SeqCst);
        assert!((2..=3).contains(&reads), "{reads} reads for 9 calls");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_that_goes_away_hands_the_gate_on() {
        let source = Arc::new(Source { value: AtomicI64::new(7), reads: AtomicUsize::new(0) });
        let next = Arc::new(NextRead::<i64>::default());
        let abandoned = call(&source, &next);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let waiting = call(&source, &next);
        tokio::time::sleep(Duration::from_millis(5)).await;
        abandoned.abort();
        let answer = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("the waiting call was left waiting");
        assert_eq!(answer.unwrap(), Ok(7));
        // And the gate is open again for a call on its own.
        assert_eq!(next.get(|| source.read()).await, Ok(7));
    }

    #[tokio::test]
    async fn a_failed_read_is_each_callers_own_to_retry() {
        let next = NextRead::<i64>::default();
        let failed: Result<i64, &str> = next.get(|| async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        assert_eq!(next.get(|| async { Ok::<_, &str>(3) }).await, Ok(3));
    }
}
