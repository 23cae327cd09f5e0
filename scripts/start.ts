/** `npm start`: the local stack. */
process.stdout.write('keyfront local stack: not assembled yet.\n');
