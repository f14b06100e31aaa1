//! What a process has mapped where, region by region, as `pmap` lists it (`vminfo`).

use abi::mman::{MAP_PRIVATE, MAP_SHARED};
use abi::sys::{region, RegionInfo};
use abi::Errno;

use crate::mm::shm::object::ObjKind;
use crate::mm::vm::Kind;
use crate::phys::PAGE_SIZE;
use crate::{uaccess, Kernel};

type R = Result<isize, Errno>;

impl Kernel {
    /// vminfo(pid, index, buf): region `index` of process `pid` (0: the caller) into `buf`,
    /// returning the index of the next one. ENOENT past the last region, ESRCH for no such
    /// process, EPERM for another user's process (unless root), EFAULT for a bad buffer.
    pub fn sys_vminfo(&mut self, me: usize, pid: usize, index: usize, buf: usize) -> R {
        let s = self.target(me, pid)?;
        let (uid, tuid) = (self.task(me).uid, self.task(s).uid);
        if uid != 0 && uid != tuid {
            return Err(Errno::EPERM);
        }
        let r = *self.task(s).regions.get(index).ok_or(Errno::ENOENT)?;
        let mut info = RegionInfo {
            start: r.va as u64,
            len: (r.npages() * PAGE_SIZE) as u64,
            prot: r.prot(),
            share: MAP_PRIVATE,
            ..RegionInfo::default()
        };
        info.kind = match r.kind {
            Kind::Program => region::PROGRAM,
            Kind::Stack => region::STACK,
            Kind::Heap => region::HEAP,
            Kind::Obj { obj, off, sysv } => {
                info.offset = (off * PAGE_SIZE) as u64;
                let o = self.objs.obj(obj);
                if o.kind != ObjKind::Private {
                    info.share = MAP_SHARED;
                }
                let n = o.name.len().min(info.name.len());
                info.name[..n].copy_from_slice(&o.name[..n]);
                info.name_len = n as u32;
                match (sysv, o.kind) {
                    (Some(slot), _) => {
                        info.id = self.shm.id(slot as usize);
                        info.deleted = self.shm.get(slot as usize).is_some_and(|g| g.dest) as u32;
                        region::SYSV
                    }
                    (None, ObjKind::Posix) => {
                        info.deleted = !o.named as u32;
                        region::POSIX
                    }
                    (None, ObjKind::Anon) => region::ANON_OBJ,
                    (None, ObjKind::Memfd) => region::MEMFD,
                    (None, ObjKind::Shmem) => region::SHMEM,
                    (None, ObjKind::Sysv | ObjKind::Private) => region::ANON,
                }
            }
        };
        let env = self.task(me).env;
        uaccess::write_val(self.arch, &env, buf, &info)?;
        Ok(index as isize + 1)
    }
}
