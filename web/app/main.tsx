import './dashboard.css';
import { render } from 'preact';
import { App } from './app';

const root = document.getElementById('app')!;
// The page's "Loading…" goes: Preact renders beside what is there.
root.replaceChildren();
render(<App />, root);
