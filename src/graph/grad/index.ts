// Registers every gradient rule (import for its side effects).
import './elementwise.js';
import './linalg.js';
import './reduce.js';
import './shape.js';
import './nn.js';
