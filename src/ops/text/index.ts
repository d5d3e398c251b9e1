/** String and text-feature ops. Shared helper (no op): string-input.ts. */
import './string-concat.js'; // StringConcat
import './string-split.js'; // StringSplit
import './string-normalizer.js'; // StringNormalizer
import './regex-full-match.js'; // RegexFullMatch
import './tfidf-vectorizer.js'; // TfIdfVectorizer
