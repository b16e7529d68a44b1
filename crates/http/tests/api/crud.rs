//! Create, read, vread, update, delete and their headers.

use serde_json::json;

use crate::both_stores;

both_stores! {
    async fn create_then_read_gives_back_the_resource(app) {
        let created = app.create(&json!({
            "resourceType": "Patient",
            "name": [{ "family": "Chalmers", "given": ["Peter", "James"] }],
            "gender": "male",
            "birthDate": "1974-12-25"
        })).await;
        let id = created["id"].as_str().expect("server assigned an id");
        assert_eq!(created["meta"]["versionId"], "1");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.header("etag"), Some("W/\"1\""));
        assert!(read.header("last-modified").is_some());
        assert_eq!(read.body["name"][0]["family"], "Chalmers");
        assert_eq!(read.body["birthDate"], "1974-12-25");
    }
}
