/** Sampling and image-geometry ops, and two more: CumProd and Det. */
import './cumprod.js'; // CumProd, com.tessera::CumProdGrad
import './det.js'; // Det
import './grid-sample.js'; // GridSample
import './affine-grid.js'; // AffineGrid
import './col2im.js'; // Col2Im
import './roi-align.js'; // RoiAlign
import './deform-conv.js'; // DeformConv
