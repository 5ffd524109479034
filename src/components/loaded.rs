//! The one way pages show server data: a loading line, then the data, or the error in its place.

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::ErrorList;
use crate::error::AppError;

/// Renders `render(data)` once `resource` has loaded, keeping the previous content while it reloads.
#[component]
pub fn Loaded<T, V, F>(resource: Resource<Result<T, AppError>>, loading: &'static str, render: F) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="loading">{loading}</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors/> }>
                {
                    let render = render.clone();
                    move || {
                        let render = render.clone();
                        Suspend::new(async move { resource.await.map(render) })
                    }
                }
            </ErrorBoundary>
        </Transition>
    }
}

/// Follows long work (fix jobs, running tasks): while `active` holds for the loaded data, bumps
/// `refresh` after `every`, which must be in `resource`'s source so that it loads again.
pub fn refresh_while<T>(resource: Resource<Result<T, AppError>>, refresh: RwSignal<u32>, every: std::time::Duration, active: fn(&T) -> bool)
where
    T: Send + Sync + 'static,
{
    Effect::new(move |_| {
        if resource.with(|loaded| matches!(loaded, Some(Ok(data)) if active(data))) {
            set_timeout(move || refresh.update(|n| *n += 1), every);
        }
    });
}
