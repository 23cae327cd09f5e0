// Preloaded (`node --require`) into child processes of the local stack, such as Azurite: a child
// started with an IPC channel exits when the channel closes, which happens when its parent dies
// in any way (even SIGKILL), so no emulator outlives the stack that started it.
'use strict';
if (typeof process.send === 'function') {
  process.on('disconnect', () => process.exit(0));
  // The channel must not keep the child alive by itself, nor be read as work to wait for.
  if (process.channel && typeof process.channel.unref === 'function') process.channel.unref();
}
