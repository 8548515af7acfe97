//! The pairing queues of seed 001, on this node: `vent` waits for `listen`
//! and `talk` for `talk`, first come first served. A socket waits in at most
//! one queue; leaving the queue or disconnecting takes it out.

use chat_wire::events::QueueKind;
use chat_wire::ids::Up;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// A socket waiting to be paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The user.
    pub up: Up,
    /// The socket id.
    pub socket: String,
}

/// The queues; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct MatchQueues {
    queues: Arc<Mutex<HashMap<QueueKind, VecDeque<Waiting>>>>,
}

impl MatchQueues {
    /// Puts `me` in `queue`, or returns the partner it is paired with (who
    /// then leaves their queue). A user is never paired with themselves.
    pub fn enqueue(&self, queue: QueueKind, me: Waiting) -> Option<Waiting> {
        let mut queues = self.lock();
        remove_socket(&mut queues, &me.socket);
        let partners = queues.entry(queue.partner()).or_default();
        if let Some(index) = partners.iter().position(|w| w.up != me.up) {
            return partners.remove(index);
        }
        queues.entry(queue).or_default().push_back(me);
        None
    }

    /// Puts a partner back at the head of its queue (when pairing failed).
    pub fn requeue_first(&self, queue: QueueKind, waiting: Waiting) {
        self.lock().entry(queue).or_default().push_front(waiting);
    }

    /// Takes a socket out of every queue; `true` if it was waiting.
    pub fn leave(&self, socket: &str) -> bool {
        remove_socket(&mut self.lock(), socket)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<QueueKind, VecDeque<Waiting>>> {
        self.queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn remove_socket(queues: &mut HashMap<QueueKind, VecDeque<Waiting>>, socket: &str) -> bool {
    let mut removed = false;
    for queue in queues.values_mut() {
        let before = queue.len();
        queue.retain(|w| w.socket != socket);
        removed |= queue.len() != before;
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(up: &str, socket: &str) -> Waiting {
        Waiting {
            up: Up::parse(up).unwrap(),
            socket: socket.into(),
        }
    }

    #[test]
    fn vent_pairs_with_listen_and_talk_with_talk() {
        let queues = MatchQueues::default();
        assert_eq!(queues.enqueue(QueueKind::Vent, waiting("a", "s1")), None);
        assert_eq!(
            queues.enqueue(QueueKind::Vent, waiting("b", "s2")),
            None,
            "two venters do not pair"
        );
        assert_eq!(
            queues.enqueue(QueueKind::Listen, waiting("c", "s3")),
            Some(waiting("a", "s1"))
        );
        assert_eq!(queues.enqueue(QueueKind::Talk, waiting("d", "s4")), None);
        assert_eq!(
            queues.enqueue(QueueKind::Talk, waiting("e", "s5")),
            Some(waiting("d", "s4"))
        );
    }

    #[test]
    fn a_user_is_not_paired_with_themselves_and_leaving_empties_the_queue() {
        let queues = MatchQueues::default();
        assert_eq!(queues.enqueue(QueueKind::Talk, waiting("a", "s1")), None);
        assert_eq!(queues.enqueue(QueueKind::Talk, waiting("a", "s2")), None);
        assert!(queues.leave("s1"));
        assert!(queues.leave("s2"));
        assert!(!queues.leave("s2"));
        assert_eq!(queues.enqueue(QueueKind::Talk, waiting("b", "s3")), None);
    }
}
