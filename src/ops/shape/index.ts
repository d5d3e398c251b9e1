/** Shape, layout, indexing and data-movement ops. */
import './reshape.js';
