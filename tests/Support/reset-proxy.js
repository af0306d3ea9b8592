// Test helper (Ssh tests, issue 12 item 2): a loopback TCP proxy that answers the first --reset connections with a
// TCP reset (what a guest whose sshd is restarting, or a firewall's reject-with-tcp-reset, sends), holds the next
// --mute connections open without a word (what a client sees when the SYN-ACK or the banner was lost: nothing, until
// the kernel's retransmission), and forwards the later ones to --to (a real sshd), each --delay ms late (a slow guest).
// With --pair, a connection is held silent until the next one arrives, then both are forwarded at once (a client's
// hedged second connection then runs its handshake in lockstep with the first).
// Prints {"port":N} on stdout once listening; "count" on stdin prints {"connections":N}. Exits when stdin closes.
// Loopback only.
'use strict';
const net = require('net');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf('--' + name); return i >= 0 ? args[i + 1] : dflt; };
const resets = Number(opt('reset', '1'));
const mute = Number(opt('mute', '0'));
const delay = Number(opt('delay', '0'));
const to = Number(opt('to', '0'));
const pair = args.includes('--pair');
let waiting = null;
let connections = 0;
const held = [];
const server = net.createServer(socket => {
    connections++;
    if (connections <= resets || !to) { socket.resetAndDestroy(); return; }
    if (connections <= resets + mute) { held.push(socket); socket.on('error', () => socket.destroy()); return; }
    socket.pause();
    if (pair) {
        socket.on('error', () => socket.destroy());
        if (!waiting) { waiting = socket; return; }
        const first = waiting;
        waiting = null;
        forward(first);
    }
    forward(socket);
});
function forward(socket) {
    setTimeout(() => {
        const upstream = net.connect({ host: '127.0.0.1', port: to });
        socket.pipe(upstream).pipe(socket);
        socket.resume();
        const close = () => { socket.destroy(); upstream.destroy(); };
        socket.on('error', close); upstream.on('error', close);
        socket.on('close', close); upstream.on('close', close);
    }, delay);
}
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.stdin.setEncoding('utf8');
process.stdin.on('data', d => { if (d.includes('count')) process.stdout.write(JSON.stringify({ connections }) + '\n'); });
process.stdin.on('end', () => process.exit(0));
