// Geometry and layout types shared by the vision modules. Boxes and points are always in the pixel
// coordinates of the image that was passed in, unless a name says otherwise.

/** Axis-aligned box [x1, y1, x2, y2] in pixels. */
export type BoxXyxyPx = [number, number, number, number];

/** Point [x, y] in pixels. */
export type PointPx = [number, number];

/** Order of the three colour channels in a tensor. */
export type ChannelOrder = 'rgb' | 'bgr';

/** Memory layout of an image tensor: channel-last (HWC) or channel-first (CHW). */
export type TensorLayout = 'hwc' | 'chw';

/** Position of the scaled image inside a letterboxed model input. */
export type LetterboxAnchor = 'top-left' | 'centre';

/** Row-major 3x3 matrix, for homographies and affine maps in homogeneous coordinates. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];
