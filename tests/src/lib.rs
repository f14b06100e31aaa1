//! QEMU integration test helpers.
