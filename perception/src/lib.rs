//! Courier perception: point clouds → ground / obstacles → clusters → tracked objects, and laser
//! scans → costmap input. Node core: `Perception` (see issue 6).
