//! Reading a whole list without trusting the server's sizes: pages are fetched as the
//! items arrive, a few ahead, and the list stops at a short or empty page, at the
//! server's `total`, or at apigsync's caps, whatever the server says.
//!
//! The caps: an instance's lists are bounded by its quotas (`PLUGIN_NUM_LIMIT`, the API
//! quota; SPEC §11.3), which the SPEC does not give as numbers; APIG's own instances allow
//! thousands of APIs. [`MAX_LIST_ITEMS`] is chosen far above that and bounds the memory a
//! list can take (with [`crate::MAX_ANSWER_BYTES`] per page); [`MAX_LIST_PAGES`] bounds the
//! requests of a server that pages in ones.

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use serde::de::DeserializeOwned;

use super::client::{Call, Client, PAGE_LIMIT, decode_error};
use super::error::ApiError;
use super::page::decode_page;

/// The most items apigsync reads of one list.
pub const MAX_LIST_ITEMS: usize = 100_000;
/// The most pages apigsync reads of one list (100 000 items at 100 per page, the
/// page size the Terraform provider uses: SPEC §2).
pub const MAX_LIST_PAGES: usize = 1_000;
/// Pages requested ahead of the one being read, when the server said how many there are.
const AHEAD: usize = 4;

impl Client {
    /// Every item of a list endpoint. The first page gives the page size (its length)
    /// and, when the server says, the `total`; the pages after it are fetched in order
    /// with up to [`AHEAD`] in flight (the in-flight limit bounds them too) while the
    /// `total` says there are more, or one by one while pages come back full when there
    /// is no `total`. A short or empty page ends the list.
    pub(crate) async fn paged<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        list_key: &str,
    ) -> Result<Vec<T>, ApiError> {
        let (mut items, mut total) = self.page::<T>(&call, list_key, 0).await?;
        let step = items.len();
        self.check_total(&call, total, step)?;
        let mut pending = FuturesOrdered::new();
        let mut next = step;
        let mut pages = 1;
        let mut last = step;
        loop {
            let wanted = |offset: usize, total: Option<u64>| match total {
                Some(t) => (offset as u64) < t,
                None => true,
            };
            let ahead = if total.is_some() { AHEAD } else { 1 };
            while step > 0 && last == step && pending.len() < ahead && wanted(next, total) {
                if pages >= MAX_LIST_PAGES {
                    return Err(self.too_long(
                        &call,
                        format!("sent {} items in {pages} pages and more", items.len()),
                        format!("at most {MAX_LIST_PAGES} pages"),
                    ));
                }
                pending.push_back(self.page::<T>(&call, list_key, next));
                next += step;
                pages += 1;
            }
            let Some(page) = pending.next().await else {
                return Ok(items);
            };
            let (page, page_total) = page?;
            last = page.len();
            total = page_total.or(total);
            if items.len() + page.len() > MAX_LIST_ITEMS {
                return Err(self.too_long(
                    &call,
                    format!("sent more than {MAX_LIST_ITEMS} items"),
                    format!("at most {MAX_LIST_ITEMS} items"),
                ));
            }
            items.extend(page);
            if last < step || total.is_some_and(|t| items.len() as u64 >= t) {
                return Ok(items);
            }
        }
    }

    /// Refuses up front a list whose `total` is over the caps (with pages of `step` items).
    fn check_total(
        &self,
        call: &Call<'_>,
        total: Option<u64>,
        step: usize,
    ) -> Result<(), ApiError> {
        let Some(total) = total else { return Ok(()) };
        if total > MAX_LIST_ITEMS as u64 {
            return Err(self.too_long(
                call,
                format!("says total {total}"),
                format!("at most {MAX_LIST_ITEMS} items"),
            ));
        }
        if step > 0 && total.div_ceil(step as u64) > MAX_LIST_PAGES as u64 {
            return Err(self.too_long(
                call,
                format!("says total {total} in pages of {step}"),
                format!("at most {MAX_LIST_PAGES} pages"),
            ));
        }
        Ok(())
    }

    fn too_long(&self, call: &Call<'_>, found: String, cap: String) -> ApiError {
        ApiError::TooLong {
            op: call.op.clone(),
            call: call.describe(),
            found,
            cap,
        }
    }

    /// One page at `offset`: its items and the list's `total`, when the server says.
    async fn page<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        list_key: &str,
        offset: usize,
    ) -> Result<(Vec<T>, Option<u64>), ApiError> {
        let page_call = call
            .clone()
            .query("limit", PAGE_LIMIT.to_string())
            .query("offset", offset.to_string());
        let reply = self.send(&page_call).await?;
        let page = decode_page::<T>(&reply.body, list_key).map_err(|e| {
            let unexpected = e
                .is_data()
                .then(|| format!("unexpected {list_key:?} page: {e}"));
            decode_error(call.op, &reply, unexpected)
        })?;
        Ok((page.items, page.total))
    }
}
