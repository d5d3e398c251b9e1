/** Classification metrics: accuracy, precision, recall, F1, ROC-AUC. */
export {};
