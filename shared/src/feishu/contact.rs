//! A user's display name (doc "获取单个用户信息", `contact/v3/users/:user_id`), for the
//! team calendar's entries: no approval API or event names the applicant.

use reqwest::Method;
use serde::Deserialize;

use super::client::{Call, FeishuClient, segment};
use super::error::FeishuError;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserName {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub en_name: String,
}

impl FeishuClient {
    /// `data.user.{name, en_name}` of `open_id`. Scopes `contact:contact.base:readonly`
    /// and `contact:user.base:readonly`; a user outside the app's contact range answers
    /// 41050 ("no user authority").
    pub async fn user_name(&self, open_id: &str) -> Result<UserName, FeishuError> {
        #[derive(Deserialize)]
        struct Resp {
            user: UserName,
        }
        let call = Call::new(
            "contact.users.get",
            Method::GET,
            format!("/open-apis/contact/v3/users/{}", segment(open_id)),
        )
        .query("user_id_type", "open_id");
        Ok(self.send::<Resp>(&call).await?.user)
    }
}
