package dev.shoal.durable.build;

import org.teavm.model.AccessLevel;
import org.teavm.model.ClassHolder;
import org.teavm.model.ClassHolderTransformer;
import org.teavm.model.ClassHolderTransformerContext;
import org.teavm.model.ElementModifier;
import org.teavm.model.FieldHolder;
import org.teavm.model.FieldReference;
import org.teavm.model.Instruction;
import org.teavm.model.MethodHolder;
import org.teavm.model.Program;
import org.teavm.model.ValueType;
import org.teavm.model.instructions.ConstructInstruction;
import org.teavm.model.instructions.PutFieldInstruction;
import org.teavm.vm.spi.TeaVMHost;
import org.teavm.vm.spi.TeaVMPlugin;

/**
 * A TeaVM compiler plugin (build time only; registered in META-INF/services): every {@code new C}
 * is followed by a store of the new object into a static field of {@code C}, so the newest
 * instance of each class stays reachable.
 *
 * <p>Why: V8's optimized code holds the hidden classes (maps) it checks and allocates weakly. A
 * TeaVM object gets its fields one store at a time, so its map is a leaf of a transition tree that
 * nothing but its instances keeps alive. When a full GC finds no live instance of a short-lived
 * class (an iterator, a frame record, a boxed number), the map dies and every optimized function
 * that embeds it is thrown away ("embedded weak objects cleared"): some fifty functions of the
 * write path at each mark-compact, then slow until V8 optimizes them again. One live instance per
 * class keeps the map. Measured: docs/benchmarks.md, "Sixth pass"; {@code test-harness/bench/v8-trace.js}
 * counts the deoptimizations.
 *
 * <p>Cost: one store into a module variable per object. Memory: one instance per class, with what
 * it references, until the next instance of that class replaces it. The fields are statics, so
 * isolate-wide: after a Durable Object is evicted, the newest instances it made (its engine among
 * them) stay reachable until the other objects of the worker in that isolate make their own,
 * which for the write path's classes is their next write and for the engine's own (the
 * {@code Shard}) the next object to start. {@code java.lang.Object} is left out.
 */
public final class NewestInstancePlugin implements TeaVMPlugin {
    /** The static field each concrete class gets. */
    static final String FIELD = "shoal$newest";

    @Override
    public void install(TeaVMHost host) {
        host.add(new Transformer());
    }

    private static final class Transformer implements ClassHolderTransformer {
        private static final ValueType OBJECT = ValueType.object("java.lang.Object");

        @Override
        public void transformClass(ClassHolder cls, ClassHolderTransformerContext context) {
            if (keepsNewest(cls.getName()) && !cls.hasModifier(ElementModifier.INTERFACE) && !cls.hasModifier(ElementModifier.ABSTRACT)) {
                FieldHolder field = new FieldHolder(FIELD);
                field.setType(OBJECT);
                field.setLevel(AccessLevel.PUBLIC);
                field.getModifiers().add(ElementModifier.STATIC);
                cls.addField(field);
            }
            for (MethodHolder method : cls.getMethods()) {
                Program program = method.getProgram();
                if (program == null) {
                    continue;
                }
                for (int b = 0; b < program.basicBlockCount(); b++) {
                    for (Instruction insn : program.basicBlockAt(b)) {
                        if (insn instanceof ConstructInstruction construct && keepsNewest(construct.getType())) {
                            PutFieldInstruction keep = new PutFieldInstruction(); // no instance: a static field
                            keep.setField(new FieldReference(construct.getType(), FIELD));
                            keep.setFieldType(OBJECT);
                            keep.setValue(construct.getReceiver());
                            keep.setLocation(construct.getLocation());
                            construct.insertNext(keep);
                        }
                    }
                }
            }
        }

        /** Every class but java.lang.Object, whose instances are rare and whose map is the root of every class's. */
        private static boolean keepsNewest(String className) {
            return !className.equals("java.lang.Object");
        }
    }
}
