//! The one worker pool: a slice cut into chunks, handed out one at a time to a thread per core,
//! results back in the order of the chunks. `batch` prepares and signs with it; it is public so
//! that other bulk work (the relay's, say) uses the same one.
//!
//! Chunks are handed out one at a time rather than split evenly up front, so a thread the
//! scheduler slows down does less of the work. The first failure stops the handing out: every
//! chunk before the failed one has been handed out already and finishes, so the error returned
//! is always the one of the earliest failing chunk, as a single thread would have found it.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Why a pooled run stopped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError<E> {
    /// The work of a chunk failed (the earliest such chunk's error).
    #[error(transparent)]
    Failed(E),
    /// A worker thread panicked.
    #[error("a worker thread stopped unexpectedly")]
    Panicked,
}

/// The number of threads the pool runs: the machine's available parallelism.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Run `work(first, chunk)` over `items` cut into chunks of `chunk` items (`first` is the index in
/// `items` of the chunk's first item); the results come back in the order of the chunks.
pub fn try_chunks<T: Sync, R: Send, E: Send>(
    items: &[T],
    chunk: usize,
    work: impl Fn(usize, &[T]) -> Result<R, E> + Sync,
) -> Result<Vec<R>, PoolError<E>> {
    let chunk = chunk.max(1);
    run(items.chunks(chunk).collect(), |i, part| {
        work(i * chunk, part)
    })
}

/// [`try_chunks`] for work that changes the items.
pub fn try_chunks_mut<T: Send, R: Send, E: Send>(
    items: &mut [T],
    chunk: usize,
    work: impl Fn(usize, &mut [T]) -> Result<R, E> + Sync,
) -> Result<Vec<R>, PoolError<E>> {
    let chunk = chunk.max(1);
    run(items.chunks_mut(chunk).collect(), |i, part| {
        work(i * chunk, part)
    })
}

fn run<S: Send, R: Send, E: Send>(
    slots: Vec<S>,
    work: impl Fn(usize, S) -> Result<R, E> + Sync,
) -> Result<Vec<R>, PoolError<E>> {
    let workers = threads().min(slots.len());
    let queue = Mutex::new(slots.into_iter().enumerate());
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            // A poisoned queue means another worker panicked: that is reported below.
            let Some((i, slot)) = queue.lock().ok().and_then(|mut q| q.next()) else {
                break;
            };
            let result = work(i, slot);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((i, result));
        }
        done
    };
    let joined: Result<Vec<Vec<_>>, _> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut results: Vec<(usize, Result<R, E>)> = joined
        .map_err(|_| PoolError::Panicked)?
        .into_iter()
        .flatten()
        .collect();
    results.sort_by_key(|(i, _)| *i);
    results
        .into_iter()
        .map(|(_, r)| r.map_err(PoolError::Failed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_and_the_earliest_error() {
        let items: Vec<u32> = (0..10_000).collect();
        let sums = try_chunks(&items, 7, |first, part| {
            assert_eq!(part[0] as usize, first);
            Ok::<_, ()>(part.iter().sum::<u32>())
        })
        .unwrap();
        assert_eq!(sums.len(), 10_000usize.div_ceil(7));
        assert_eq!(sums.iter().sum::<u32>(), items.iter().sum::<u32>());
        // Items 3000 and up fail: whatever the threads do, the chunk holding 3000 is reported.
        let err = try_chunks(&items, 10, |first, part| {
            match part.iter().find(|&&x| x >= 3000) {
                Some(_) => Err(first),
                None => Ok(()),
            }
        })
        .unwrap_err();
        assert_eq!(err, PoolError::Failed(3000));
        let mut items = items;
        try_chunks_mut(&mut items, 100, |_, part| {
            part.iter_mut().for_each(|x| *x *= 2);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert!(items.iter().enumerate().all(|(i, &x)| x as usize == 2 * i));
        let none: Vec<u8> = Vec::new();
        assert_eq!(try_chunks(&none, 4, |_, _| Ok::<_, ()>(1)), Ok(vec![]));
    }

    #[test]
    fn a_panicking_worker_is_an_error() {
        let items = [1, 2, 3];
        let r = try_chunks(&items, 1, |first, _| -> Result<(), ()> {
            assert_ne!(first, 1, "worker panics on purpose");
            Ok(())
        });
        assert_eq!(r, Err(PoolError::Panicked));
    }
}
