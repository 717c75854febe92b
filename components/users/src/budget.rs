//! A budget all clients share: at most so many units of some costly work (e.g.
//! milliseconds of CPU) in each second, whoever asks. For work whose cost falls on
//! the machine rather than on one client, such as hashing a password: the front
//! door's limits per client can't bound what many clients ask together. Counted in
//! kit's counters (the rate limits' store), in the key `budget:<name>`, and open like
//! the rate limits when the store fails. Its own module: only users hashes passwords.

use spinshop_kit::ApiError;
use spinshop_kit::http::counters::{Counters, Window};

pub struct SharedBudget {
    store: Option<Counters>,
    key: String,
    per_second: u64,
}

impl SharedBudget {
    /// The budget `name` of `per_second` units a second; 0: no budget.
    pub async fn open(name: &str, per_second: u64) -> SharedBudget {
        SharedBudget {
            store: if per_second == 0 {
                None
            } else {
                Counters::open().await
            },
            key: format!("budget:{name}"),
            per_second,
        }
    }

    /// Takes `units` from this second's budget before the work starts, so that work
    /// starting at the same time sees it taken; 429 `rate_limited`, with
    /// `retry-after: 1`, when the budget is spent already.
    pub async fn take(&self, units: u64) -> Result<(), ApiError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let window = Window::this_second();
        let taken = match store.total(&self.key, window).await {
            Ok(spent) if spent >= self.per_second => Ok(false),
            Ok(spent) => store
                .set(&self.key, window, spent.saturating_add(units))
                .await
                .map(|()| true),
            Err(err) => Err(err),
        };
        match taken {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::RateLimited {
                retry_after_seconds: 1,
            }),
            Err(err) => {
                eprintln!("budget not applied: counting {}: {err}", self.key);
                Ok(())
            }
        }
    }

    /// Counts `units` more, spent now (what the work cost beyond what was taken).
    pub async fn spend(&self, units: u64) {
        if units == 0 {
            return;
        }
        let Some(store) = &self.store else {
            return;
        };
        if let Err(err) = store.add(&self.key, Window::this_second(), units).await {
            eprintln!("budget not applied: counting {}: {err}", self.key);
        }
    }
}
