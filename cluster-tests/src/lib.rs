//! Multi-node test harness (grows with the cluster issue).
