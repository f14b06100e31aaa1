//! Chunk/signal channels over a named POSIX shared-memory object (the l4shmc_* API).
#![no_std]
