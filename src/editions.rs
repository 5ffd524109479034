//! The edition table: which feature needs which edition, and which features must first be
//! authorized to reach another service. Every gate in the server and the UI reads this one place.

use serde::{Deserialize, Serialize};
use crate::locale::{Locale, td_string};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Edition {
    Basic,
    Advanced,
    Enterprise,
}

impl Edition {
    pub const ALL: [Edition; 3] = [Edition::Basic, Edition::Advanced, Edition::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Basic => "basic",
            Edition::Advanced => "advanced",
            Edition::Enterprise => "enterprise",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Edition::Basic => "Basic",
            Edition::Advanced => "Advanced",
            Edition::Enterprise => "Enterprise",
        }
    }

    pub fn parse(value: &str) -> Option<Edition> {
        Edition::ALL.into_iter().find(|e| e.as_str() == value)
    }

    /// "basic, advanced or enterprise", for messages that list the editions.
    pub fn names() -> String {
        let names: Vec<&str> = Edition::ALL.iter().map(|e| e.as_str()).collect();
        format!("{} or {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
    }

    pub fn allows(self, feature: Feature) -> bool {
        self >= feature.required_edition()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Feature {
    SecurityReports,
    Playbooks,
    ContainerSignature,
    MultiAccountControl,
}

impl Feature {
    pub const ALL: [Feature; 4] = [
        Feature::SecurityReports,
        Feature::Playbooks,
        Feature::ContainerSignature,
        Feature::MultiAccountControl,
    ];

    /// The edition table.
    pub const fn required_edition(self) -> Edition {
        match self {
            Feature::SecurityReports => Edition::Advanced,
            Feature::Playbooks | Feature::ContainerSignature | Feature::MultiAccountControl => Edition::Enterprise,
        }
    }

    /// Features that reach another service ask once for authorization to do so.
    pub const fn authorization(self) -> Option<Service> {
        match self {
            Feature::ContainerSignature => Some(Service::KeysAndClusters),
            Feature::MultiAccountControl => Some(Service::ResourceDirectory),
            Feature::SecurityReports | Feature::Playbooks => None,
        }
    }

    /// Why an account on `edition` may not use this feature now, or `None` when it may.
    /// `authorized`: the account authorizes the service the feature reaches (if it reaches one).
    /// Background work asks this again each time it runs, not only when it was set up.
    pub fn refusal(self, edition: Edition, authorized: bool) -> Option<String> {
        if !edition.allows(self) {
            Some(format!(
                "the account is on the {} edition and {} needs {}; the console operator sets the edition",
                edition.label(),
                self.label(),
                self.required_edition().label()
            ))
        } else {
            self.authorization().filter(|_| !authorized).map(|service| {
                format!(
                    "the account no longer authorizes Bulwark to access {}; an admin can authorize it in Settings › Authorizations",
                    service.label()
                )
            })
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Feature::SecurityReports => "Security reports",
            Feature::Playbooks => "Playbooks",
            Feature::ContainerSignature => "Container signature",
            Feature::MultiAccountControl => "Multi-account control",
        }
    }
}

/// Services a feature reaches on the account's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Service {
    KeysAndClusters,
    ResourceDirectory,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::KeysAndClusters, Service::ResourceDirectory];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::KeysAndClusters => "keys_and_clusters",
            Service::ResourceDirectory => "resource_directory",
        }
    }

    pub fn parse(value: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Service::KeysAndClusters => "the key management service and your Kubernetes clusters",
            Service::ResourceDirectory => "the resource directory and its member accounts",
        }
    }

    pub fn feature(self) -> Feature {
        match self {
            Service::KeysAndClusters => Feature::ContainerSignature,
            Service::ResourceDirectory => Feature::MultiAccountControl,
        }
    }
}

impl Feature {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Feature::SecurityReports => td_string!(locale, common.feature.security_reports),
            Feature::Playbooks => td_string!(locale, common.feature.playbooks),
            Feature::ContainerSignature => td_string!(locale, common.feature.container_signature),
            Feature::MultiAccountControl => td_string!(locale, common.feature.multi_account),
        }
    }
}

impl Service {
    /// What the service reaches, in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Service::KeysAndClusters => td_string!(locale, common.service.keys_and_clusters),
            Service::ResourceDirectory => td_string!(locale, common.service.resource_directory),
        }
    }
}

impl Edition {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Edition::Basic => td_string!(locale, common.edition.basic),
            Edition::Advanced => td_string!(locale, common.edition.advanced),
            Edition::Enterprise => td_string!(locale, common.edition.enterprise),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edition_table_matches_the_product_rules() {
        assert!(!Edition::Basic.allows(Feature::SecurityReports));
        assert!(Edition::Advanced.allows(Feature::SecurityReports));
        assert!(!Edition::Advanced.allows(Feature::Playbooks));
        for feature in Feature::ALL {
            assert!(Edition::Enterprise.allows(feature), "{feature:?}");
        }
    }

    #[test]
    fn refusals_name_the_edition_or_the_missing_authorization() {
        let edition = Feature::Playbooks.refusal(Edition::Advanced, true).unwrap();
        assert_eq!(edition, "the account is on the Advanced edition and Playbooks needs Enterprise; the console operator sets the edition");
        let authorization = Feature::ContainerSignature.refusal(Edition::Enterprise, false).unwrap();
        assert!(authorization.contains("no longer authorizes Bulwark to access the key management service"), "{authorization}");
        assert_eq!(Feature::ContainerSignature.refusal(Edition::Enterprise, true), None);
        // Features that reach no other service ignore the authorization.
        assert_eq!(Feature::SecurityReports.refusal(Edition::Advanced, false), None);
        assert_eq!(Edition::names(), "basic, advanced or enterprise");
    }

    #[test]
    fn every_service_belongs_to_the_feature_that_asks_for_it() {
        for service in Service::ALL {
            assert_eq!(service.feature().authorization(), Some(service));
            assert_eq!(Service::parse(service.as_str()), Some(service));
        }
    }
}
