//! The two Wikimedia APIs wikitop reads. Sources know HTTP and JSON, nothing of stores.

pub(crate) mod categories;
pub(crate) mod pageviews;
