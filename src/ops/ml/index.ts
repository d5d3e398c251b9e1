/** ai.onnx.ml (traditional ML) ops. domain.ts holds the domain name. */
import './label-encoder.js'; // LabelEncoder (opset 1, 2, 4)
import './tree-ensemble.js'; // TreeEnsemble (opset 5)
import './array-feature-extractor.js'; // ArrayFeatureExtractor
import './binarizer.js'; // Binarizer
