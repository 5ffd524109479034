//! Pagination under tables.

use leptos::prelude::*;

use crate::format::thousands;
use crate::locale::{fill, td_string, tr, use_i18n};

/// "Page 2 of 7" with previous/next links; `href(page)` builds each link so filters stay in the URL.
/// `capped`: the count stopped at `total` and more rows match ("1,000+ in all").
#[component]
pub fn Pagination(page: i64, page_count: i64, total: i64, href: impl Fn(i64) -> String + 'static, #[prop(optional)] capped: bool) -> impl IntoView {
    let page_count = page_count.max(1);
    let total = if capped { format!("{}+", thousands(total)) } else { thousands(total) };
    let previous = (page > 1).then(|| href(page - 1));
    let next = (page < page_count).then(|| href(page + 1));
    let i18n = use_i18n();
    view! {
        <nav class="pagination" aria-label=tr(i18n, |l| td_string!(l, assets.ui.pagination))>
            <span class="muted">{move || fill(td_string!(i18n.get_locale(), assets.ui.in_all), &[("total", &total)])}</span>
            {match previous {
                Some(link) => view! { <a href=link rel="prev">{tr(i18n, |l| td_string!(l, assets.ui.previous))}</a> }.into_any(),
                None => view! { <span class="disabled">{tr(i18n, |l| td_string!(l, assets.ui.previous))}</span> }.into_any(),
            }}
            <span class="current">
                {move || {
                    let (page, count) = (page.to_string(), page_count.to_string());
                    fill(td_string!(i18n.get_locale(), assets.ui.page_of), &[("page", &page), ("count", &count)])
                }}
            </span>
            {match next {
                Some(link) => view! { <a href=link rel="next">{tr(i18n, |l| td_string!(l, assets.ui.next))}</a> }.into_any(),
                None => view! { <span class="disabled">{tr(i18n, |l| td_string!(l, assets.ui.next))}</span> }.into_any(),
            }}
        </nav>
    }
}


/// Table rows, or a single row saying there is nothing to show.
pub fn rows_or_empty<T, V: IntoView + 'static>(
    items: Vec<T>,
    columns: u32,
    empty: &'static str,
    row: impl FnMut(T) -> V,
) -> AnyView {
    if items.is_empty() {
        view! {
            <tr>
                <td colspan=columns class="table-empty">{empty}</td>
            </tr>
        }
        .into_any()
    } else {
        items.into_iter().map(row).collect_view().into_any()
    }
}
