//! The two Wikimedia APIs wikitop reads. Sources know HTTP and JSON, nothing of stores.

pub mod categories;
pub mod pageviews;
