//! Errors of a page's data, shown in place of the page body.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert">
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|(_, e)| {
                        let message = e
                            .downcast_ref::<AppError>()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| e.to_string());
                        view! { <p>{message}</p> }
                    })
                    .collect_view()
            }}
        </div>
    }
}
