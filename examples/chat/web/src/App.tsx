// The example chat: sign in, your channels, a channel's messages and members. Every list is a
// Shoal shape rendered with useShape; every write is a mutator (ChatApp.java) called through
// useMutator, with an optimistic client twin (session.ts). Channel c lives on shard c; the list of
// my channels and everyone's display names come from global tables (docs/sharding.md). The page
// never names a shard: the client routes each shape and mutator by the generated `routes`.

import { ShoalError } from '@shoal/client'
import { ShoalProvider, useMutator, useSyncStatus } from '@shoal/react'
import { useEffect, useMemo, useRef, useState, useSyncExternalStore, type FormEvent } from 'react'
import { devSignIn, saveAuth, tokenSignIn, type Auth } from './auth'
import { Session, useRows, type RowOf } from './session'

/** Display names by user id (the global `profiles` shape); a user without one shows their id. */
function useNames(): (userId: string) => string {
  const { data: profiles = [] } = useRows('profiles', {})
  const byId = useMemo(() => new Map(profiles.map((p) => [p.id, p.displayName])), [profiles])
  return (userId) => byId.get(userId) ?? userId
}

export function App({ initial }: { initial: Session | null }) {
  const [session, setSession] = useState(initial)
  const signIn = (auth: Auth) => {
    saveAuth(auth)
    setSession(new Session(auth))
  }
  const signOut = async () => {
    saveAuth(null)
    // This user's cached rows and unsent writes leave the browser with them, before the next
    // person gets the sign-in form.
    await session?.signOut().catch((e) => console.error(e))
    setSession(null)
  }
  if (!session) return <SignIn onSignIn={signIn} />
  return (
    <ShoalProvider client={session.client}>
      <Chat key={session.user} session={session} onSignOut={signOut} />
    </ShoalProvider>
  )
}

// ---- sign-in ------------------------------------------------------------------

function SignIn({ onSignIn }: { onSignIn: (auth: Auth) => void }) {
  const [name, setName] = useState('')
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function dev(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      onSignIn(await devSignIn(name.trim()))
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }

  function pasted(e: FormEvent) {
    e.preventDefault()
    try {
      onSignIn(tokenSignIn(token))
    } catch (err) {
      setError((err as Error).message)
    }
  }

  return (
    <main className="signin">
      <h1>Shoal chat</h1>
      <form onSubmit={dev}>
        <label htmlFor="user">Your name (local development: the server mints a dev token)</label>
        <input id="user" value={name} onChange={(e) => setName(e.target.value)} placeholder="alice" required maxLength={128} autoFocus />
        <button type="submit" disabled={busy || !name.trim()}>
          Sign in
        </button>
      </form>
      <form onSubmit={pasted}>
        <label htmlFor="token">Or paste a token</label>
        <textarea id="token" value={token} onChange={(e) => setToken(e.target.value)} rows={3} />
        <button type="submit" disabled={!token.trim()}>
          Use token
        </button>
      </form>
      {error && (
        <p role="alert" className="inline-error">
          {error}
        </p>
      )}
    </main>
  )
}

// ---- the chat -----------------------------------------------------------------

/** The channel id in the URL: #/c/<id>. */
function useChannelFromHash(): string | null {
  const hash = useSyncExternalStore(
    (cb) => {
      addEventListener('hashchange', cb)
      return () => removeEventListener('hashchange', cb)
    },
    () => location.hash,
  )
  const m = /^#\/c\/([A-Za-z0-9_.:-]{1,128})$/.exec(hash)
  return m ? m[1] : null
}

/**
 * A new row id: the time first, so that messages the server stamps with the same createdAt (a
 * batch sent after being offline) still sort in the order they were written; then randomness.
 */
let lastIdTime = 0
function newId(prefix: string) {
  lastIdTime = Math.max(Date.now(), lastIdTime + 1)
  return `${prefix}-${lastIdTime.toString(36).padStart(9, '0')}-${crypto.randomUUID()}`
}

function Chat({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const channelId = useChannelFromHash()
  const { data: channels = [] } = useRows('myChannels', {})
  const channel = channels.find((c) => c.channelId === channelId)
  return (
    <>
      <Header session={session} onSignOut={onSignOut} />
      <div className="layout">
        <ChannelList session={session} channels={channels} selected={channelId} />
        {channelId ? (
          <ChannelView key={`messages:${channelId}`} session={session} channelId={channelId} channel={channel} />
        ) : (
          <section className="messages">
            <p className="muted">Pick a channel, or create one.</p>
          </section>
        )}
        {channelId ? <MemberList key={`members:${channelId}`} session={session} channelId={channelId} /> : <aside />}
      </div>
      <Problems session={session} />
    </>
  )
}

function Header({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  // "online" | "connecting" | "offline", and the writes the server has not applied yet (they
  // survive a reload: the next page adopts the outbox). The client id is known once the outbox is
  // chosen, which the status reports too.
  const { status: connection, pending: unsent, auth } = useSyncStatus()
  const clientId = session.client.clientId
  const nameOf = useNames()
  const setDisplayName = useMutator(session.m.setDisplayName)

  return (
    <header>
      <h1>Shoal chat</h1>
      <span>
        Signed in as <strong data-testid="me">{nameOf(session.user)}</strong>
      </span>
      <OneFieldForm label="Display name" placeholder="display name" maxLength={100} action="Set name" error={setDisplayName.error}
        onSubmit={(displayName) => void setDisplayName.mutate({ displayName })} />
      <span role="status" className="status" data-state={connection} title={clientId ? `client ${clientId}` : undefined}>
        {connection}
      </span>
      {auth === 'refused' && <span data-testid="auth-refused">signed out by the server: sign in again</span>}
      <span data-testid="unsent" data-count={unsent}>
        {unsent === 0 ? 'all saved' : `${unsent} unsent`}
      </span>
      <button onClick={onSignOut} title={unsent > 0 ? `Signing out discards ${unsent} unsent` : undefined}>
        Sign out
      </button>
    </header>
  )
}

function ChannelList({ session, channels, selected }: { session: Session; channels: RowOf<'myChannels'>[]; selected: string | null }) {
  const create = useMutator(session.m.createChannel)
  const sorted = useMemo(() => [...channels].sort((a, b) => a.channelName.localeCompare(b.channelName) || a.id.localeCompare(b.id)), [channels])

  function submit(name: string) {
    const id = newId('c')
    void create.mutate({ id, name })
    location.hash = `#/c/${id}`
  }

  return (
    <nav className="channels" aria-label="Channels">
      <h2>My channels</h2>
      <ul className="plain">
        {sorted.map((c) => (
          <li key={c.id}>
            <a href={`#/c/${c.channelId}`} aria-current={c.channelId === selected ? 'page' : undefined}>
              # {c.channelName}
            </a>
          </li>
        ))}
        {sorted.length === 0 && <li className="muted">No channels yet.</li>}
      </ul>
      <OneFieldForm label="New channel name" placeholder="new channel" maxLength={200} action="Create" error={create.error} onSubmit={submit} />
    </nav>
  )
}

/** How many of a channel's newest messages are rendered at first, and how many more per click. */
const MESSAGES_SHOWN = 200

function ChannelView({ session, channelId, channel: listed }: { session: Session; channelId: string; channel: RowOf<'myChannels'> | undefined }) {
  const { data: messages = [], isLoading } = useRows('messagesByChannel', { channelId })
  // The channel's own row (name and topic) comes from its shard; the list entry says I belong to it.
  const { data: rows = [] } = useRows('channel', { id: channelId })
  const channel = listed ? rows[0] : undefined
  const nameOf = useNames()
  const send = useMutator(session.m.sendMessage)
  const sorted = useMemo(() => [...messages].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)), [messages])
  // The newest messages only, more on demand: a channel of 10,000 messages (all in the collection,
  // from the row cache) still paints its first rows at once.
  const [shown, setShown] = useState(MESSAGES_SHOWN)
  const visible = sorted.length > shown ? sorted.slice(sorted.length - shown) : sorted
  const end = useRef<HTMLLIElement>(null)
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' })
  }, [sorted.length])

  return (
    <section className="messages" aria-label="Channel">
      {channel ? <ChannelHeader session={session} channel={channel} /> : <h2 data-testid="channel-title">{channelId} (not one of your channels)</h2>}
      {isLoading && <p className="muted">Loading…</p>}
      {sorted.length > visible.length && (
        <button className="earlier" onClick={() => setShown((n) => n + MESSAGES_SHOWN)}>
          Show earlier messages ({sorted.length - visible.length})
        </button>
      )}
      <ul className="plain" aria-label="Messages">
        {visible.map((m) => {
          const pending = (m as { $hasPendingWrites?: boolean }).$hasPendingWrites === true
          return (
            <li key={m.id} data-id={m.id} className={pending ? 'pending' : undefined}>
              <span className="author" data-author={m.authorId}>
                {nameOf(m.authorId)}
              </span>
              <span className="text">{m.text}</span>
              <span className="note muted">{pending ? 'sending…' : new Date(m.createdAt).toLocaleTimeString()}</span>
            </li>
          )
        })}
        {!isLoading && sorted.length === 0 && <li className="muted">No messages.</li>}
        <li ref={end} aria-hidden />
      </ul>
      <OneFieldForm label="Message" placeholder="Write a message" maxLength={4000} action="Send" error={send.error}
        onSubmit={(text) => void send.mutate({ id: newId('m'), channelId, text })} />
    </section>
  )
}

/** The channel's name and topic, each edited by its own patch mutator. */
function ChannelHeader({ session, channel }: { session: Session; channel: RowOf<'channel'> }) {
  const rename = useMutator(session.m.renameChannel)
  const setTopic = useMutator(session.m.setTopic)
  const [editing, setEditing] = useState(false)
  const [name, setName] = useState(channel.name)
  const [topic, setTopicText] = useState(channel.topic ?? '')

  function edit() {
    setName(channel.name)
    setTopicText(channel.topic ?? '')
    setEditing(true)
  }

  function submit(e: FormEvent) {
    e.preventDefault()
    // Only what changed is sent: an edit of the other field by someone else stays.
    if (name.trim() && name.trim() !== channel.name) void rename.mutate({ id: channel.id, name: name.trim() })
    if (topic.trim() !== (channel.topic ?? '')) void setTopic.mutate({ id: channel.id, topic: topic.trim() })
    setEditing(false)
  }

  return (
    <div className="channel-header">
      {editing ? (
        <form className="row" onSubmit={submit}>
          <input aria-label="Channel name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required />
          <input aria-label="Topic" placeholder="topic" value={topic} onChange={(e) => setTopicText(e.target.value)} maxLength={500} />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <h2 data-testid="channel-title">
            # {channel.name} <button onClick={edit}>Edit</button>
          </h2>
          <p className="muted" data-testid="channel-topic">
            {channel.topic || 'No topic.'}
          </p>
        </>
      )}
      {rename.error && <ErrorLine error={rename.error} />}
      {setTopic.error && <ErrorLine error={setTopic.error} />}
    </div>
  )
}

function MemberList({ session, channelId }: { session: Session; channelId: string }) {
  const { data: members = [] } = useRows('membersByChannel', { channelId })
  const add = useMutator(session.m.addMember)
  const remove = useMutator(session.m.removeMember)
  const nameOf = useNames()
  const sorted = useMemo(() => [...members].sort((a, b) => a.userId.localeCompare(b.userId)), [members])

  return (
    <aside className="members">
      <h2>Members</h2>
      <ul className="plain" aria-label="Members">
        {sorted.map((m) => (
          <li key={m.id} data-user={m.userId}>
            <span>{m.userId === session.user ? `${nameOf(m.userId)} (you)` : nameOf(m.userId)}</span>
            <button aria-label={`Remove ${m.userId}`} title={`Remove ${m.userId}`} onClick={() => void remove.mutate({ channelId, userId: m.userId })}>
              ✕
            </button>
          </li>
        ))}
      </ul>
      <OneFieldForm label="Add member" placeholder="user name" maxLength={128} action="Add" error={add.error}
        onSubmit={(userId) => void add.mutate({ channelId, userId })} />
      {remove.error && <ErrorLine error={remove.error} />}
    </aside>
  )
}

/** An error as a user reads it: the code (FORBIDDEN, CONFLICT, ...) and the server's words; the full text, hint included, on hover. */
function Explained({ error }: { error: Error }) {
  if (!(error instanceof ShoalError)) return <span>{error.message}</span>
  return (
    <span title={error.message} data-code={error.code}>
      <strong>{error.code}</strong>: {error.serverMessage}
    </span>
  )
}

/** A refused write, next to the form that made it. */
/**
 * A one-field form: its text, trimmed, goes to `onSubmit` and the field empties; the button waits
 * for some text; `error` (the mutator's last) shows under it.
 */
function OneFieldForm(props: { label: string; placeholder: string; maxLength: number; action: string; error?: Error | null; onSubmit: (text: string) => void }) {
  const [text, setText] = useState('')
  function submit(e: FormEvent) {
    e.preventDefault()
    props.onSubmit(text.trim())
    setText('')
  }
  return (
    <>
      <form className="row" onSubmit={submit}>
        <input aria-label={props.label} placeholder={props.placeholder} value={text} onChange={(e) => setText(e.target.value)} maxLength={props.maxLength} required />
        <button type="submit" disabled={!text.trim()}>
          {props.action}
        </button>
      </form>
      {props.error && <ErrorLine error={props.error} />}
    </>
  )
}

function ErrorLine({ error }: { error: Error }) {
  return (
    <p role="alert" className="inline-error">
      <Explained error={error} />
    </p>
  )
}

/** Errors nobody awaited (e.g. a write made offline and refused when it was replayed). */
function Problems({ session }: { session: Session }) {
  const problems = useSyncExternalStore(session.problems.subscribe, session.problems.get)
  if (problems.length === 0) return null
  return (
    <div className="alerts">
      {problems.map(({ id, error }) => (
        <div key={id} role="alert" className="alert">
          <button aria-label="Dismiss" onClick={() => session.dismiss(id)}>
            ✕
          </button>
          <Explained error={error} />
        </div>
      ))}
    </div>
  )
}
