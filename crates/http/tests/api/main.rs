//! HTTP API tests against a real server on 127.0.0.1:0, each on SQLite and on PostgreSQL.

mod helpers;

mod access;
mod oauth;

mod audit;

mod booking;
mod bundle;
mod capability;
mod conditional;
mod crud;
mod errors;
mod examples;
mod history;
mod messaging;
mod ondemand;
mod openapi;
mod search;
mod triage;
mod visit_record;
mod visits;
