//! A shared heap over a named POSIX shared-memory object (the shmheap_* API).
#![no_std]
