//! Integration tests of the API stand-ins: their behaviour (pagination, conditional requests and
//! rate-limit budget, deployment phases, rollback pinning, scripting, faults) and the contract
//! checks that hold their exchanges to the official API descriptions.

mod balancer;
mod contract;
mod digitalocean;
mod doks;
mod droplet;
mod faults;
mod fleet;
mod github;
mod kubernetes;
mod ops_sim;
mod support;
