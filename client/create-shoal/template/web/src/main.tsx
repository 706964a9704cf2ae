// The page: sign in with a development token, then a todo list synced by Shoal. One ShoalClient
// per signed-in user (one outbox); mutators run at once on the page through their client twins
// and exactly once on the server. Types come from shoal.gen.ts, written by codegen from TodoApp.
import { ShoalClient } from "@shoal/client";
import { bindMutators } from "@shoal/db";
import { ShoalProvider, shapeCollection, useMutator, useShape, useSyncStatus } from "@shoal/react";
import { useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { routes, type Mutators, type Shapes } from "./shoal.gen";

type Todo = Shapes["myTodos"]["row"];
const AUTH_KEY = "shoal-app:auth";

interface Auth { user: string; token: string; exp: number }

/** A development token from the Worker (only with SHOAL_DEV_TOKENS=true, i.e. .dev.vars). */
async function devSignIn(user: string): Promise<Auth> {
  const res = await fetch("/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sub: user }) });
  if (!res.ok) throw new Error(`no development token: ${(await res.text()).trim()}`);
  const { token, exp } = (await res.json()) as { token: string; exp: number };
  return { user, token, exp };
}

function session(auth: Auth) {
  // `routes` (generated) name each shape's and mutator's shard: the client opens the right socket itself.
  const client = new ShoalClient({ baseUrl: location.origin, getToken: async () => auth.token, routes });
  const todos = () => shapeCollection<Todo>(client, "myTodos", {});
  // Client twins: the optimistic change, replaced by the synced row when the server's poke covers it.
  const m = bindMutators(client, {}, {
    addTodo: (_tx: unknown, { id, text }: Mutators["addTodo"]) => todos().insert({ id, text, done: false }),
    setDone: (_tx: unknown, { id, done }: Mutators["setDone"]) => { if (todos().has(id)) todos().update(id, (t) => void (t.done = done)); },
    deleteTodo: (_tx: unknown, { id }: Mutators["deleteTodo"]) => { if (todos().has(id)) todos().delete(id); },
  });
  return { auth, client, m };
}
type Session = ReturnType<typeof session>;

function Todos({ s, signOut }: { s: Session; signOut: () => void }) {
  const { data } = useShape<Todo>("myTodos", {});
  const { status, pending } = useSyncStatus();
  const add = useMutator(s.m.addTodo);
  const setDone = useMutator(s.m.setDone);
  const remove = useMutator(s.m.deleteTodo);
  const [text, setText] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim()) void add.mutate({ id: crypto.randomUUID(), text: text.trim() });
    setText("");
  };
  return (
    <main>
      <h1>{s.auth.user}'s todos</h1>
      <p className="muted">{status}{pending > 0 ? `, ${pending} unsent` : ""} · <button onClick={signOut}>Sign out</button></p>
      <form onSubmit={submit}>
        <input type="text" aria-label="New todo" value={text} onChange={(e) => setText(e.target.value)} maxLength={1000} />
        <button type="submit">Add</button>
      </form>
      {add.error && <p role="alert">{add.error.message}</p>}
      <ul>
        {[...data].sort((a, b) => a.text.localeCompare(b.text)).map((t) => (
          <li key={t.id} className={t.done ? "done" : ""}>
            <input type="checkbox" checked={t.done} onChange={(e) => void setDone.mutate({ id: t.id, done: e.target.checked })} />
            <span>{t.text}</span>
            <button onClick={() => void remove.mutate({ id: t.id })}>Delete</button>
          </li>
        ))}
      </ul>
    </main>
  );
}

function App() {
  const [s, setSession] = useState<Session | null>(() => {
    const saved = JSON.parse(localStorage.getItem(AUTH_KEY) ?? "null") as Auth | null;
    return saved && saved.exp > Date.now() / 1000 ? session(saved) : null;
  });
  const [error, setError] = useState<string | null>(null);
  if (s) {
    const signOut = () => {
      localStorage.removeItem(AUTH_KEY);
      void s.client.close();
      setSession(null);
    };
    return <ShoalProvider client={s.client}><Todos s={s} signOut={signOut} /></ShoalProvider>;
  }
  const signIn = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const user = String(new FormData(e.currentTarget).get("user") ?? "").trim();
    try {
      const auth = await devSignIn(user);
      localStorage.setItem(AUTH_KEY, JSON.stringify(auth));
      setSession(session(auth));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <main>
      <h1>Sign in</h1>
      <form onSubmit={signIn}>
        <input type="text" name="user" aria-label="User name" placeholder="any name (development sign-in)" required maxLength={128} />
        <button type="submit">Sign in</button>
      </form>
      {error && <p role="alert">{error}</p>}
    </main>
  );
}

createRoot(document.getElementById("root")!).render(<App />);
